import assert from "node:assert/strict";
import { hostName, hostProblem, isIpLiteral } from "../../../src/http/host_check.ts";

const loopback = { listenHost: "127.0.0.1", allowedHosts: [] };

Deno.test("hostName() takes the name out of a Host header: lowercased, no port, brackets or trailing dot", () => {
  assert.equal(hostName("127.0.0.1:9464"), "127.0.0.1");
  assert.equal(hostName("LocalHost."), "localhost");
  assert.equal(hostName("[::1]:9464"), "::1");
  assert.equal(hostName("[::ffff:127.0.0.1]"), "::ffff:127.0.0.1");
  assert.equal(hostName("consumerd.example.com:80"), "consumerd.example.com");
  for (const bad of ["", "a@127.0.0.1", "::1", "[::1", "x:y", "a b", "[evil]:1"]) {
    assert.equal(hostName(bad), null, bad);
  }
});

Deno.test("isIpLiteral() accepts dotted IPv4 and IPv6 addresses, not names", () => {
  for (const ip of ["127.0.0.1", "10.244.1.17", "0.0.0.0", "::1", "fd00::1", "::ffff:10.0.0.1"]) {
    assert.ok(isIpLiteral(ip), ip);
  }
  for (const name of ["localhost", "256.0.0.1", "1.2.3", "127.0.0.1.nip.io", "evil.example"]) {
    assert.ok(!isIpLiteral(name), name);
  }
});

Deno.test("hostProblem() accepts IP literals, localhost, the listen host and allowedHosts, whatever the port", () => {
  for (const host of ["127.0.0.1:9464", "127.0.0.1", "[::1]:9464", "localhost:8080", "localhost"]) {
    assert.equal(hostProblem(host, loopback), null, host);
  }
  // The kubelet probes a pod by its IP; a Service or a port mapping passes another address on.
  const wildcard = { listenHost: "0.0.0.0", allowedHosts: ["consumerd.ops.svc"] };
  for (const host of ["10.244.1.17:9464", "172.17.0.2:9464", "[fd00::17]:9464"]) {
    assert.equal(hostProblem(host, wildcard), null, host);
  }
  assert.equal(hostProblem("Consumerd.Ops.Svc.:9464", wildcard), null);
  assert.equal(
    hostProblem("status.local:9464", { listenHost: "status.local", allowedHosts: [] }),
    null,
  );
  assert.equal(hostProblem(null, loopback), null, "no Host: not a browser");
});

Deno.test("hostProblem() refuses any other name, saying what to configure", () => {
  const problem = hostProblem("evil.example:9464", loopback);
  assert.match(problem ?? "", /^Host evil\.example is not a name of this server/);
  assert.match(problem ?? "", /DNS rebinding/);
  assert.match(problem ?? "", /add evil\.example to http\.allowedHosts$/);
  for (const host of ["127.0.0.1.nip.io:9464", "localhost.evil.example", "consumerd.ops.svc"]) {
    assert.notEqual(hostProblem(host, loopback), null, host);
  }
  assert.match(hostProblem("a@127.0.0.1", loopback) ?? "", /^Host "a@127\.0\.0\.1" is not/);
});

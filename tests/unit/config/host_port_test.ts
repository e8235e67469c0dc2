import assert from "node:assert/strict";
import { parseHostPort } from "../../../src/config/host_port.ts";

Deno.test("parseHostPort() parses host names, IPv4 and bracketed IPv6", () => {
  assert.deepEqual(parseHostPort("127.0.0.1:9092"), { host: "127.0.0.1", port: 9092 });
  assert.deepEqual(parseHostPort("kafka-0.kafka.svc:9093"), {
    host: "kafka-0.kafka.svc",
    port: 9093,
  });
  assert.deepEqual(parseHostPort("[::1]:9464"), { host: "::1", port: 9464 });
  assert.deepEqual(parseHostPort("[fe80::1%eth0]:1"), { host: "fe80::1%eth0", port: 1 });
});

Deno.test("parseHostPort() says what is wrong", () => {
  assert.equal(parseHostPort("localhost"), "the port is missing");
  assert.equal(parseHostPort("localhost:"), "the port is missing");
  assert.equal(parseHostPort(":9092"), "the host is missing");
  assert.equal(parseHostPort("h:abc"), 'the port "abc" is not a number');
  assert.equal(parseHostPort("h:0"), "the port 0 is outside 1-65535");
  assert.equal(parseHostPort("h:65536"), "the port 65536 is outside 1-65535");
  assert.equal(
    parseHostPort("::1:9092"),
    "an IPv6 host must be written in brackets, as [::1]:port",
  );
  assert.equal(parseHostPort("[::1"), "the IPv6 address has no closing ]");
  assert.equal(parseHostPort("bad host:1"), '"bad host" is not a host name or IP address');
});

Deno.test("parseHostPort() accepts port 0 only when allowed", () => {
  assert.deepEqual(parseHostPort("127.0.0.1:0", { allowPortZero: true }), {
    host: "127.0.0.1",
    port: 0,
  });
});

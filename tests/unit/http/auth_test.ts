import assert from "node:assert/strict";
import { isLoopback, secretsEqual } from "../../../src/http/auth.ts";
import { listenProblem } from "../../../src/http/server.ts";

Deno.test("isLoopback() accepts 127/8, ::1 and localhost only", () => {
  for (const host of ["127.0.0.1", "127.1.2.3", "::1", "localhost"]) {
    assert.ok(isLoopback(host), host);
  }
  for (const host of ["0.0.0.0", "::", "10.0.0.1", "example.com"]) {
    assert.ok(!isLoopback(host), host);
  }
});

Deno.test("secretsEqual() compares whole secrets", async () => {
  assert.equal(await secretsEqual("abc", "abc"), true);
  assert.equal(await secretsEqual("abc", "abd"), false);
  assert.equal(await secretsEqual("abc", "abcd"), false);
  assert.equal(await secretsEqual("", "x"), false);
});

Deno.test("listenProblem() refuses a non-loopback address without a token, naming the fix", () => {
  assert.equal(listenProblem({ host: "127.0.0.1", port: 9464 }, null), null);
  assert.equal(listenProblem({ host: "0.0.0.0", port: 9464 }, "t"), null);
  assert.match(
    listenProblem({ host: "0.0.0.0", port: 9464 }, null) ?? "",
    /0\.0\.0\.0:9464, which is not a loopback address.*http\.token/,
  );
});

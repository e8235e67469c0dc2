// The status server's address rules: a non-loopback listen address needs
// http.token (else the daemon refuses to start), and with a token every
// request but /healthz and /readyz needs `Authorization: Bearer <token>`.
import assert from "node:assert/strict";
import { fixtureHandler, startDaemon, writeConfig } from "../harness/daemon.ts";
import { freePort, startHttpDaemon } from "../harness/http.ts";
import { uniqueName } from "../harness/kafka.ts";

const consumers = [{
  name: "orders",
  group: "g",
  topic: "orders",
  handler: fixtureHandler("quiet.ts"),
}];

for (const runtime of ["deno", "bun"] as const) {
  Deno.test(`on ${runtime}: listening on 0.0.0.0 without http.token refuses to start, saying why`, async () => {
    const config = await writeConfig({
      kafka: { brokers: [`127.0.0.1:${freePort()}`] },
      http: { listen: "0.0.0.0:0" },
      consumers,
    });
    const daemon = startDaemon(config, { runtime });
    assert.equal(await daemon.exited(), 1, "exit code 1");
    const refusal = daemon.records.find((r) => String(r.msg).startsWith("refusing to start"));
    assert.ok(refusal, `a refusal in the log:\n${daemon.stderr.join("\n")}`);
    assert.match(String(refusal.msg), /0\.0\.0\.0:0, which is not a loopback address/);
    assert.match(String(refusal.msg), /http\.token/);
    assert.equal(daemon.logged("starting").length, 0, "no consumer was started");
  });

  Deno.test(`on ${runtime}: an http.listen address already in use stops the start before any worker`, async () => {
    const taken = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    try {
      const { port } = taken.addr as Deno.NetAddr;
      const config = await writeConfig({
        kafka: { brokers: [`127.0.0.1:${freePort()}`] },
        http: { listen: `127.0.0.1:${port}` },
        consumers,
      });
      const daemon = startDaemon(config, { runtime });
      assert.equal(await daemon.exited(), 1);
      const refusal = daemon.records.find((r) => String(r.msg).startsWith("refusing to start"));
      assert.match(
        String(refusal?.msg),
        new RegExp(`cannot listen on 127\\.0\\.0\\.1:${port} \\(http\\.listen\\)`),
      );
      assert.equal(daemon.logged("worker state").length, 0, "no worker was started");
    } finally {
      taken.close();
    }
  });

  Deno.test(`on ${runtime}: with http.token, /status needs the bearer token and /healthz, /readyz do not`, async () => {
    const token = `t-${uniqueName("secret")}`;
    const { daemon, url } = await startHttpDaemon(consumers, {
      runtime,
      brokers: [`127.0.0.1:${freePort()}`],
      http: { listen: "0.0.0.0:0", token: "${CONSUMERD_TOKEN}" },
      env: { CONSUMERD_TOKEN: token },
    });
    try {
      const base = `http://127.0.0.1:${new URL(url).port}/`;
      const get = async (path: string, headers: Record<string, string> = {}) => {
        const r = await fetch(base + path, { headers });
        await r.body?.cancel();
        return r;
      };
      const bare = await get("status");
      assert.equal(bare.status, 401);
      assert.match(bare.headers.get("www-authenticate") ?? "", /^Bearer/);
      assert.equal((await get("status", { authorization: `Bearer ${token}x` })).status, 401);
      assert.equal((await get("metrics", { authorization: token })).status, 401);
      assert.equal((await get("", {})).status, 401, "the dashboard too");
      assert.equal((await get("nope", {})).status, 401, "unknown paths reveal nothing");
      assert.equal((await get("status", { authorization: `Bearer ${token}` })).status, 200);
      assert.equal((await get("metrics", { authorization: `bearer ${token}` })).status, 200);
      assert.equal((await get("healthz")).status, 200);
      assert.equal((await get("readyz")).status, 503, "open, and not ready (no brokers)");
      assert.ok(
        daemon.stderr.every((line) => !line.includes(token)),
        "the token never appears in the log",
      );
    } finally {
      await daemon.stop();
    }
  });
}

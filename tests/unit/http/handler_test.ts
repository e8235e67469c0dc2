import assert from "node:assert/strict";
import { createStatusHandler, readBody, type StatusSource } from "../../../src/http/handler.ts";
import { emptyStats } from "../../../src/supervisor/status.ts";
import type { ConsumerReport } from "../../../src/supervisor/report.ts";
import type { Logger } from "../../../src/log.ts";

const report = (over: Partial<ConsumerReport> = {}): ConsumerReport => ({
  name: "audit",
  group: "g",
  topic: "orders",
  mode: "balanced",
  groupProtocol: "consumer",
  members: [{ replica: 0, memberId: "m-1", instanceId: "pod-0.audit.0", generation: 7 }],
  state: "running",
  reason: null,
  ready: true,
  replicas: 1,
  workersUp: 1,
  restarts: 0,
  lastError: null,
  resets: { "committed": 1, "reset-on-start": 0, "no-committed-offset": 0, "out-of-range": 0 },
  deadLettered: 0,
  handlerErrors: 0,
  partitions: [{ partition: 0, committed: "5", processed: "4", highWatermark: "9", lag: "4" }],
  paused: [],
  dispatch: null,
  stats: emptyStats(),
  workers: [{ replica: 0, up: true }],
  transactional: false,
  fingerprint: null,
  ...over,
});

const source = (reports: ConsumerReport[], alive = true): StatusSource => ({
  reports: () => reports,
  alive: () => alive,
  config: () => ({
    path: "/etc/consumerd/consumers.yaml",
    revision: 1,
    lastReload: { ok: true, at: "2026-11-29T10:00:00.000Z", errors: [] },
  }),
});

const req = (path: string, init: RequestInit = {}) =>
  new Request(`http://127.0.0.1:9464${path}`, init);

Deno.test("createStatusHandler() serves /status in PRODUCT §7's shape, offsets as strings", async () => {
  const handler = createStatusHandler({ source: source([report()]), token: null });
  const response = await handler(req("/status"));
  assert.equal(response.status, 200);
  const body = await response.json();
  assert.equal(body.config.revision, 1);
  assert.deepEqual(body.consumers[0].partitions, [
    { partition: 0, committed: "5", processed: "4", highWatermark: "9", lag: "4" },
  ]);
  assert.equal(body.consumers[0].state, "running");
  assert.equal(body.consumers[0].lastError, null);
  assert.equal(body.consumers[0].groupProtocol, "consumer");
  assert.deepEqual(body.consumers[0].members, [
    { replica: 0, memberId: "m-1", instanceId: "pod-0.audit.0", generation: 7 },
  ]);
});

Deno.test("createStatusHandler() answers /readyz 503 naming the consumer and a reason code, 200 when all are ready", async () => {
  const waiting = report({
    name: "late",
    state: "waiting",
    ready: false,
    reason: "cannot reach brokers 10.0.0.7:9092: connection refused; retrying",
  });
  const failed = report({
    name: "broken",
    state: "failed",
    ready: false,
    reason: "cannot load handler /srv/app/workers/audit.ts (consumers.yaml:9): " +
      "Error: boom at file:///srv/app/workers/audit.ts:2:7; restarting",
  });
  const notReady = await createStatusHandler({
    source: source([report(), waiting, failed]),
    token: null,
  })(req("/readyz"));
  assert.equal(notReady.status, 503);
  const text = await notReady.text();
  assert.deepEqual(JSON.parse(text), {
    ready: false,
    notReady: [
      { consumer: "late", state: "waiting", reason: "waiting-for-kafka" },
      { consumer: "broken", state: "failed", reason: "worker-failed" },
    ],
    stalled: [],
  });
  assert.doesNotMatch(text, /10\.0\.0\.7|\/srv|boom/, "no address, path or exception text");
  const stalled = report({ name: "stuck", state: "stalled", ready: true, reason: "paused" });
  const ready = await createStatusHandler({ source: source([report(), stalled]), token: null })(
    req("/readyz"),
  );
  assert.equal(ready.status, 200);
  assert.deepEqual(await ready.json(), { ready: true, notReady: [], stalled: ["stuck"] });
});

Deno.test("createStatusHandler() gives /readyz's full reasons only with the token", async () => {
  const waiting = report({
    name: "late",
    state: "waiting",
    ready: false,
    reason: "topic `orders` does not exist (consumers.yaml:7); waiting for it",
  });
  const handler = createStatusHandler({ source: source([waiting]), token: "s3cret" });
  const reasons = async (headers: Record<string, string>) =>
    (await (await handler(req("/readyz", { headers }))).json()).notReady.map(
      (n: { reason: string }) => n.reason,
    );
  assert.deepEqual(await reasons({}), ["waiting-for-kafka"]);
  assert.deepEqual(await reasons({ authorization: "Bearer wrong" }), ["waiting-for-kafka"]);
  assert.deepEqual(await reasons({ authorization: "Bearer s3cret" }), [waiting.reason]);
});

Deno.test("createStatusHandler() answers 421 to a Host that is not this server's, on every path", async () => {
  const handler = createStatusHandler({
    source: source([report()]),
    token: null,
    hosts: { listenHost: "127.0.0.1", allowedHosts: ["consumerd.internal"] },
  });
  for (const path of ["/status", "/metrics", "/", "/healthz", "/readyz", "/nope"]) {
    const response = await handler(req(path, { headers: { host: "evil.example:9464" } }));
    assert.equal(response.status, 421, path);
    assert.match((await response.json()).error, /add evil\.example to http\.allowedHosts/);
  }
  for (const host of ["127.0.0.1:9464", "localhost:9464", "consumerd.internal:9464"]) {
    assert.equal((await handler(req("/status", { headers: { host } }))).status, 200, host);
  }
});

/** A handler whose reload callback answers `outcome` and counts its calls. */
function reloadingHandler(outcome: { ok: boolean }) {
  let calls = 0;
  const handler = createStatusHandler({
    source: source([]),
    token: null,
    reload: () => {
      calls++;
      return Promise.resolve(outcome);
    },
  });
  return { handler, calls: () => calls };
}

Deno.test("createStatusHandler() answers 403 to a cross-origin POST and does not reload", async () => {
  const { handler, calls } = reloadingHandler({ ok: true });
  const post = (headers: Record<string, string>) =>
    handler(req("/reload", { method: "POST", headers: { host: "127.0.0.1:9464", ...headers } }));
  const cross = await post({ origin: "http://evil.example" });
  assert.equal(cross.status, 403);
  assert.match((await cross.json()).error, /http:\/\/evil\.example \(Origin\)/);
  assert.equal((await post({ "sec-fetch-site": "cross-site" })).status, 403);
  assert.equal(calls(), 0);
  assert.equal((await post({ origin: "http://127.0.0.1:9464" })).status, 200);
  assert.equal((await post({})).status, 200);
  assert.equal(calls(), 2);
});

Deno.test("createStatusHandler() lets concurrent POST /reload share reloads: at most two for twenty", async () => {
  let calls = 0;
  let release = () => {};
  const handler = createStatusHandler({
    source: source([]),
    token: null,
    reload: () => {
      calls++;
      return new Promise((resolve) => (release = () => resolve({ ok: true })));
    },
  });
  const answers = Array.from({ length: 20 }, () => handler(req("/reload", { method: "POST" })));
  while (calls < 1) await new Promise((r) => setTimeout(r, 1));
  release();
  while (calls < 2) await new Promise((r) => setTimeout(r, 1));
  release();
  assert.deepEqual((await Promise.all(answers)).map((r) => r.status), Array(20).fill(200));
  assert.equal(calls, 2);
});

Deno.test("createStatusHandler() answers /healthz 503 when the control loop stopped", async () => {
  const handler = createStatusHandler({ source: source([], false), token: null });
  assert.equal((await handler(req("/healthz"))).status, 503);
});

Deno.test("createStatusHandler() answers 404, 405 with Allow, 413, 501 and HEAD without a body", async () => {
  // No reload callback: the route answers 501.
  const handler = createStatusHandler({ source: source([report()]), token: null });
  assert.equal((await handler(req("/nope"))).status, 404);
  const wrong = await handler(req("/metrics", { method: "POST" }));
  assert.equal(wrong.status, 405);
  assert.equal(wrong.headers.get("allow"), "GET, HEAD");
  const big = await handler(
    req("/reload", { method: "POST", headers: { "content-length": "10485760" } }),
  );
  assert.equal(big.status, 413);
  const streamed = await handler(req("/reload", { method: "POST", body: new Uint8Array(70_000) }));
  assert.equal(streamed.status, 413);
  const reload = await handler(req("/reload", { method: "POST" }));
  assert.equal(reload.status, 501);
  assert.match((await reload.json()).error, /not available/);
  const head = await handler(req("/status", { method: "HEAD" }));
  assert.equal(head.status, 200);
  assert.equal(head.body, null);
});

Deno.test("createStatusHandler() calls the reload callback when one is given", async () => {
  const { handler, calls } = reloadingHandler({ ok: false });
  const response = await handler(req("/reload", { method: "POST" }));
  assert.equal(response.status, 422);
  assert.equal(calls(), 1);
});

Deno.test("createStatusHandler() with a token: 401 without it, open /healthz and /readyz", async () => {
  const handler = createStatusHandler({ source: source([report()]), token: "s3cret" });
  assert.equal((await handler(req("/status"))).status, 401);
  assert.equal((await handler(req("/nope"))).status, 401);
  assert.equal(
    (await handler(req("/status", { headers: { authorization: "Bearer wrong" } }))).status,
    401,
  );
  assert.equal(
    (await handler(req("/status", { headers: { authorization: "Bearer s3cret" } }))).status,
    200,
  );
  assert.equal((await handler(req("/healthz"))).status, 200);
  assert.equal((await handler(req("/readyz"))).status, 200);
});

Deno.test("readBody() gives up on a body that never finishes with 408", async () => {
  const never = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(new Uint8Array(3));
    },
  });
  const request = new Request("http://x/reload", { method: "POST", body: never });
  assert.equal(await readBody(request, { limit: 100, timeoutMs: 50 }), 408);
});

Deno.test("createStatusHandler(): /status carries a partition's known fields only, whatever a worker message added", async () => {
  const forged = {
    partition: 0,
    committed: "5",
    processed: "4",
    highWatermark: "9",
    lag: "4",
    injected: "<script>",
  };
  const handler = createStatusHandler({
    source: source([report({
      partitions: [forged],
      paused: [{ partition: 0, reason: "failed", extra: 1 } as ConsumerReport["paused"][number]],
      members: [
        { replica: 0, memberId: "m", instanceId: null, generation: 1, extra: 1 } as ConsumerReport[
          "members"
        ][number],
      ],
    })]),
    token: null,
  });
  const body = await (await handler(req("/status"))).json();
  assert.deepEqual(body.consumers[0].partitions, [
    { partition: 0, committed: "5", processed: "4", highWatermark: "9", lag: "4" },
  ]);
  assert.deepEqual(body.consumers[0].paused, [{ partition: 0, reason: "failed" }]);
  assert.deepEqual(body.consumers[0].members, [
    { replica: 0, memberId: "m", instanceId: null, generation: 1 },
  ]);
});

Deno.test("createStatusHandler() answers 500 to whatever a request makes throw, never an exception", async () => {
  const logged: unknown[] = [];
  const logger = { error: (...args: unknown[]) => logged.push(args) } as unknown as Logger;
  const handler = createStatusHandler({ source: source([]), token: null, logger });
  const broken = {
    url: "/status",
    method: "GET",
    headers: {
      get() {
        throw new Error("unreadable header");
      },
    },
  } as unknown as Request;
  const response = await handler(broken);
  assert.equal(response.status, 500);
  assert.deepEqual(await response.json(), { error: "internal error; see the daemon's log" });
  assert.equal(logged.length, 1);
});

import assert from "node:assert/strict";
import { createLogger } from "../../../src/log.ts";
import { HandlerCalls } from "../../../src/worker/handler_calls.ts";
import { createMessage } from "../../../src/message.ts";

const message = createMessage({
  topic: "t",
  partition: 0,
  offset: "7",
  key: null,
  value: new TextEncoder().encode("v"),
  headers: {},
  timestamp: "0",
});

function setup(attempts: number) {
  const lines: string[] = [];
  const calls = new HandlerCalls({
    retry: { attempts, backoffMs: 1, maxBackoffMs: 2 },
    signal: new AbortController().signal,
    log: createLogger({ write: (l) => lines.push(l) }),
  });
  return { calls, lines };
}

Deno.test("HandlerCalls.run() resolves to null when the handler succeeds, calling it once", async () => {
  const { calls, lines } = setup(3);
  let n = 0;
  assert.equal(await calls.run(() => void n++, message), null);
  assert.equal(n, 1);
  assert.deepEqual(lines, []);
});

Deno.test("HandlerCalls.run() retries a throwing handler up to attempts, then returns the last error", async () => {
  const { calls, lines } = setup(3);
  let n = 0;
  const error = await calls.run(() => {
    throw new Error(`failure ${++n}`);
  }, message);
  assert.equal(n, 3);
  assert.equal((error as Error).message, "failure 3");
  assert.deepEqual(lines.map((l) => JSON.parse(l).attempt), [1, 2]);
  assert.equal(JSON.parse(lines[0]!).offset, "7");
});

Deno.test("HandlerCalls.run() counts a handler that throws null as failed, not as a success", async () => {
  const { calls } = setup(2);
  const error = await calls.run(() => {
    throw null;
  }, message);
  assert.ok(error instanceof Error, "an error, never null");
  assert.match(error.message, /threw null/);
});

Deno.test("HandlerCalls.run() succeeds on a retry", async () => {
  const { calls } = setup(3);
  let n = 0;
  assert.equal(
    await calls.run(async () => {
      if (++n < 2) throw new Error("once");
      await Promise.resolve();
    }, message),
    null,
  );
  assert.equal(n, 2);
});

Deno.test("HandlerCalls.run() stops retrying once the signal aborted", async () => {
  const abort = new AbortController();
  const calls = new HandlerCalls({
    retry: { attempts: 10, backoffMs: 1, maxBackoffMs: 1 },
    signal: abort.signal,
    log: createLogger({ write: () => {} }),
  });
  let n = 0;
  const error = await calls.run(() => {
    n++;
    abort.abort();
    throw new Error("down");
  }, message);
  assert.equal(n, 1);
  assert.equal((error as Error).message, "down");
});

Deno.test("HandlerCalls.busyMs() measures one call across samples and is null when idle", async () => {
  const { calls } = setup(1);
  assert.equal(calls.busyMs(1_000), null);
  let release!: () => void;
  const running = calls.run(() => new Promise<void>((r) => (release = r)), message);
  assert.equal(calls.busyMs(5_000), 0, "first sample of a call");
  assert.equal(calls.busyMs(7_500), 2_500, "same call, later sample");
  release();
  assert.equal(await running, null);
  assert.equal(calls.busyMs(8_000), null);
  const next = calls.run(() => new Promise<void>((r) => (release = r)), message);
  assert.equal(calls.busyMs(9_000), 0, "a new call starts a new measurement");
  release();
  await next;
});

import assert from "node:assert/strict";
import RequestQueue from "kafkajs/src/network/requestQueue/index.js";
import { idleQueueFixed, nextCheckDelay } from "../../../src/kafka/kafkajs_idle_queue.ts";

Deno.test("nextCheckDelay: none while nothing waits, throttled or not", () => {
  assert.equal(nextCheckDelay(0, -1, 1_000), null);
  assert.equal(nextCheckDelay(0, 5_000, 1_000), null);
});

Deno.test("nextCheckDelay: the end of a throttle, else kafkajs's 10 ms recheck", () => {
  assert.equal(nextCheckDelay(1, 1_250, 1_000), 250);
  assert.equal(nextCheckDelay(3, -1, 1_000), 10);
  assert.equal(nextCheckDelay(1, 1_000, 1_000), 10); // a throttle ending now still gets a check
});

type Queue = {
  pending: unknown[];
  throttledUntil: number;
  throttleCheckTimeoutId: unknown;
  checkPendingRequests(): void;
  destroy(): void;
};

function queue(): Queue {
  const logger = { debug() {}, info() {}, warn() {}, error() {} };
  const Ctor = RequestQueue as unknown as new (o: Record<string, unknown>) => Queue;
  return new Ctor({
    maxInFlightRequests: 1,
    requestTimeout: 30_000,
    enforceRequestTimeout: false,
    clientId: "test",
    broker: "127.0.0.1:9092",
    logger,
  });
}

Deno.test("kafkajs's idle request queue arms no timer (it polled every millisecond)", () => {
  assert.ok(idleQueueFixed());
  const q = queue();
  q.checkPendingRequests();
  assert.equal(q.throttleCheckTimeoutId, null);
  q.destroy();
});

Deno.test("kafkajs's request queue still checks a request that waits for a throttle", async () => {
  const q = queue();
  let checks = 0;
  const original = q.checkPendingRequests.bind(q);
  q.checkPendingRequests = () => {
    checks++;
    q.pending.length = 0; // the waiting request went out
    original();
  };
  q.pending.push({});
  q.throttledUntil = Date.now() + 30;
  (q as unknown as { scheduleCheckPendingRequests(): void }).scheduleCheckPendingRequests();
  assert.notEqual(q.throttleCheckTimeoutId, null);
  await new Promise((r) => setTimeout(r, 80));
  assert.equal(checks, 1);
  assert.equal(q.throttleCheckTimeoutId, null); // and then stops: nothing waits any more
  q.destroy();
});

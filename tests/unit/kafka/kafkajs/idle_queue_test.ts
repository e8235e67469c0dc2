import assert from "node:assert/strict";
import RequestQueue from "kafkajs/src/network/requestQueue/index.js";
import {
  idleQueueFixed,
  nextCheckDelay,
  timeoutSweepMs,
} from "../../../../src/kafka/kafkajs/idle_queue.ts";

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
  inflight: Map<number, { sentAt: number; requestTimeout: number; timeoutRequest(): void }>;
  scheduleRequestTimeoutCheck(): void;
  requestTimeoutIntervalId: unknown;
};

function queue(
  { requestTimeout = 30_000, enforceRequestTimeout = false, connected = (): boolean => true } = {},
): Queue {
  const logger = { debug() {}, info() {}, warn() {}, error() {} };
  const Ctor = RequestQueue as unknown as new (o: Record<string, unknown>) => Queue;
  return new Ctor({
    maxInFlightRequests: 1,
    requestTimeout,
    enforceRequestTimeout,
    clientId: "test",
    broker: "127.0.0.1:9092",
    logger,
    isConnected: connected,
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

Deno.test("timeoutSweepMs: a tenth of the timeout, within 100 ms (or the timeout) and 1 s", () => {
  assert.equal(timeoutSweepMs(30_000), 1_000);
  assert.equal(timeoutSweepMs(5_000), 500);
  assert.equal(timeoutSweepMs(500), 100);
  assert.equal(timeoutSweepMs(40), 40);
});

Deno.test("kafkajs's request queue times out an in-flight request past its timeout, and stops sweeping once disconnected", async () => {
  let connected = true;
  const q = queue({ requestTimeout: 300, enforceRequestTimeout: true, connected: () => connected });
  const timedOut: number[] = [];
  const request = (id: number, sentAt: number) => ({
    sentAt,
    requestTimeout: 300,
    timeoutRequest: () => {
      timedOut.push(id);
      q.inflight.delete(id); // as a timed-out request leaves the queue
    },
  });
  q.inflight.set(1, request(1, Date.now() - 1_000)); // long past its timeout
  q.inflight.set(2, request(2, Date.now() + 60_000)); // not yet
  q.scheduleRequestTimeoutCheck();
  await new Promise((r) => setTimeout(r, 150)); // one sweep: every 100 ms for a 300 ms timeout
  assert.deepEqual(timedOut, [1]);
  connected = false;
  await new Promise((r) => setTimeout(r, 150)); // a sweep sees the connection closed and stops
  q.inflight.set(3, request(3, Date.now() - 1_000));
  await new Promise((r) => setTimeout(r, 250));
  assert.deepEqual(timedOut, [1], "no sweep after the connection closed");
  q.destroy();
});

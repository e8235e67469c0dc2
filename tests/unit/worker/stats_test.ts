import assert from "node:assert/strict";
import { HANDLER_DURATION_BUCKETS, TRANSACTION_DURATION_BUCKETS } from "../../../src/protocol.ts";
import { recordBytes } from "../../../src/produce_record.ts";
import { ProblemPace } from "../../../src/worker/connect_log.ts";
import { StatsCounter } from "../../../src/worker/stats.ts";

Deno.test("StatsCounter counts calls into duration buckets and reports only changes", () => {
  const stats = new StatsCounter();
  assert.equal(stats.take(), null);
  stats.handled(1, 0.2); // 0.0002 s: first bucket
  stats.handled(10, 2000); // a batch of 10 in 2 s
  stats.handled(1, 60_000); // beyond the last bound: +Inf
  stats.handlerError();
  stats.retry();
  stats.skipped(1);
  stats.rebalance();
  const snapshot = stats.take()!;
  assert.equal(snapshot.processed, 13);
  assert.equal(snapshot.handlerErrors, 1);
  assert.equal(snapshot.retries, 1);
  assert.equal(snapshot.rebalances, 1);
  assert.equal(snapshot.duration.count, 3);
  assert.equal(snapshot.duration.buckets[0], 1);
  assert.equal(snapshot.duration.buckets[HANDLER_DURATION_BUCKETS.indexOf(5)], 1);
  assert.equal(snapshot.duration.buckets[HANDLER_DURATION_BUCKETS.length], 1);
  assert.equal(stats.take(), null, "nothing new");
});

Deno.test("ProblemPace logs a problem once, again when it changes, and after the repeat interval", () => {
  const pace = new ProblemPace({ repeatMs: 60_000 });
  assert.equal(pace.shouldLog("a", 0), true);
  assert.equal(pace.shouldLog("a", 5_000), false);
  assert.equal(pace.shouldLog("b", 6_000), true);
  assert.equal(pace.shouldLog("b", 65_999), false);
  assert.equal(pace.shouldLog("b", 66_000), true);
  pace.clear();
  assert.equal(pace.shouldLog("b", 66_001), true);
});

Deno.test("StatsCounter.handledCall() counts in the first bucket until timedCalls() moves the slowest", () => {
  const stats = new StatsCounter();
  for (let i = 0; i < 64; i++) stats.handledCall();
  assert.deepEqual([stats.snapshot().processed, stats.snapshot().duration.buckets[0]], [64, 64]);
  stats.timedCalls(7.3, 7.3);
  const { processed, duration } = stats.take()!;
  assert.equal(processed, 64);
  assert.equal(duration.count, 64);
  assert.equal(duration.buckets[0], 63);
  assert.equal(duration.buckets[HANDLER_DURATION_BUCKETS.indexOf(0.01)], 1);
  assert.ok(Math.abs(duration.sum - 0.0073) < 1e-12);
  stats.timedCalls(0.2, 0); // a quick group: nothing moves
  assert.equal(stats.snapshot().duration.buckets[0], 63);
});

Deno.test("StatsCounter counts produced records and errors per topic, and transactions with their durations", () => {
  const stats = new StatsCounter();
  stats.produced("out", 10);
  stats.produced("out", 5);
  stats.produceError("out");
  stats.produced("dlq", 7);
  stats.transaction(true, 20); // 0.02 s: the 0.025 bucket
  stats.transaction(false, 60_000); // +Inf
  const snapshot = stats.take()!;
  assert.deepEqual(snapshot.produced, {
    out: { messages: 2, bytes: 15, errors: 1 },
    dlq: { messages: 1, bytes: 7, errors: 0 },
  });
  assert.equal(snapshot.transactions.committed, 1);
  assert.equal(snapshot.transactions.aborted, 1);
  assert.equal(snapshot.transactions.duration.count, 2);
  assert.equal(snapshot.transactions.duration.sum, 60.02);
  assert.equal(
    snapshot.transactions.duration.buckets[TRANSACTION_DURATION_BUCKETS.indexOf(0.025)],
    1,
  );
  assert.equal(snapshot.transactions.duration.buckets[TRANSACTION_DURATION_BUCKETS.length], 1);
  stats.produced("out", 1);
  assert.equal(snapshot.produced.out!.messages, 2, "a snapshot does not move");
  assert.equal(stats.take()!.produced.out!.messages, 3);
});

Deno.test("recordBytes() counts key, value, and each header name and value, text as UTF-8", () => {
  assert.equal(recordBytes({ topic: "t", key: "k", value: "vv", headers: { h: ["a", "b"] } }), 7);
  assert.equal(recordBytes({ topic: "t", key: null, value: null }), 0);
  assert.equal(recordBytes({ topic: "t", value: "é€", headers: { x: undefined } }), 5);
  assert.equal(recordBytes({ topic: "t", key: new Uint8Array(3), value: new Uint8Array(4) }), 7);
});

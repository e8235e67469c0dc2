import assert from "node:assert/strict";
import { HANDLER_DURATION_BUCKETS } from "../../../src/protocol.ts";
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

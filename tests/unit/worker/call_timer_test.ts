import assert from "node:assert/strict";
import { HANDLER_DURATION_BUCKETS } from "../../../src/protocol.ts";
import { CallTimer, MAX_STRIDE } from "../../../src/worker/call_timer.ts";
import { StatsCounter } from "../../../src/worker/stats.ts";

/** A precise clock the test moves, counting its reads, and the stats the timer feeds. */
function setup(nowMs = 1_000) {
  const clock = { now: 0, reads: 0 };
  const stats = new StatsCounter();
  const groups: number[] = []; // calls per timed group
  let open = 0;
  const timer = new CallTimer(
    {
      handledCall: () => {
        open++;
        stats.handledCall();
      },
      timedCalls: (ms, slowestMs) => {
        groups.push(open);
        open = 0;
        stats.timedCalls(ms, slowestMs);
      },
    },
    nowMs,
    () => {
      clock.reads++;
      return clock.now;
    },
  );
  /** One call that takes `ms` and ends when `Date.now()` reads `nowMs`. */
  const call = (ms: number, nowMs = 1_000) => {
    clock.now += ms;
    timer.ended(nowMs);
  };
  return { clock, stats, timer, groups, call };
}

const bucket = (seconds: number) => HANDLER_DURATION_BUCKETS.indexOf(seconds);
const near = (a: number, b: number) => Math.abs(a - b) < 1e-9;

Deno.test("CallTimer times calls slower than 0.5 ms one by one, exactly", () => {
  const { stats, timer, groups, call } = setup();
  for (const ms of [0.6, 2, 30]) call(ms); // the same millisecond: only the stride ends the group
  timer.close(1_000);
  const { duration, processed } = stats.snapshot();
  assert.deepEqual(groups, [1, 1, 1]);
  assert.equal(processed, 3);
  assert.equal(duration.buckets[bucket(0.001)], 1);
  assert.equal(duration.buckets[bucket(0.005)], 1);
  assert.equal(duration.buckets[bucket(0.05)], 1);
  assert.ok(near(duration.sum, 0.0326));
});

Deno.test("CallTimer times fast calls in groups that double up to the most, with exact count and sum", () => {
  const { clock, stats, timer, groups, call } = setup();
  const calls = 1_000;
  for (let i = 0; i < calls; i++) call(0.0005); // 0.5 µs per call
  timer.close(1_000);
  assert.deepEqual(groups.slice(0, 8), [1, 2, 4, 8, 16, 32, MAX_STRIDE, 64]);
  const { duration, processed } = stats.snapshot();
  assert.equal(processed, calls);
  assert.equal(duration.count, calls);
  assert.equal(duration.buckets[0], calls);
  assert.ok(near(duration.sum, calls * 0.0005 / 1000));
  assert.ok(clock.reads < calls / 10, `${clock.reads} clock reads for ${calls} calls`);
});

Deno.test("CallTimer counts each call as it ends, before its group's time is known", () => {
  const { stats, call } = setup();
  for (let i = 0; i < 7; i++) call(0.001); // groups of 1, 2 and 4: the stride is 8 now
  call(0.001); // open: its group is not timed yet
  assert.equal(stats.snapshot().processed, 8);
  assert.equal(stats.snapshot().duration.count, 8);
  assert.ok(near(stats.snapshot().duration.sum, 7 * 0.001 / 1000));
});

Deno.test("CallTimer ends a group as soon as the millisecond changes", () => {
  const { groups, call } = setup();
  for (let i = 0; i < 7; i++) call(0.001); // groups of 1, 2 and 4: the stride is 8 now
  call(0.001);
  call(0.001, 1_001);
  assert.deepEqual(groups, [1, 2, 4, 2]);
});

Deno.test("CallTimer puts a group's time on its last call when the group took over 0.5 ms, then times one by one", () => {
  const { stats, groups, call } = setup();
  for (let i = 0; i < 3; i++) call(0.001); // groups of 1 and 2: the stride is 4 now
  call(0.001);
  call(40, 1_040); // a slow call ends the group
  call(0.001, 1_040); // timed alone again
  assert.deepEqual(groups, [1, 2, 2, 1]);
  const { duration } = stats.snapshot();
  assert.equal(duration.count, 6);
  assert.equal(duration.buckets[0], 5);
  assert.equal(duration.buckets[bucket(0.05)], 1);
  assert.ok(near(duration.sum, (40 + 5 * 0.001) / 1000));
});

Deno.test("CallTimer leaves out the time between close() or a failure and restart(), and times nothing for an empty group", () => {
  const { clock, stats, timer, call } = setup();
  call(1);
  timer.close(1_001);
  timer.close(1_001);
  clock.now += 500; // the loop's tick, or a call that failed for good
  timer.restart(1_501);
  call(2, 1_503);
  timer.close(1_503);
  const { duration } = stats.snapshot();
  assert.equal(duration.count, 2);
  assert.ok(near(duration.sum, 0.003));
});

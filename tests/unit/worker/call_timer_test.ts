import assert from "node:assert/strict";
import { CallTimer, MAX_STRIDE } from "../../../src/worker/call_timer.ts";

/** A precise clock the test moves, counting its reads, and a sink that records what it gets. */
function setup(nowMs = 1_000) {
  const clock = { now: 0, reads: 0 };
  const recorded: Array<[calls: number, ms: number]> = [];
  const timer = new CallTimer(
    { handledCalls: (calls, ms) => void recorded.push([calls, ms]) },
    nowMs,
    () => {
      clock.reads++;
      return clock.now;
    },
  );
  const total = () => recorded.reduce((sum, [calls]) => sum + calls, 0);
  const sum = () => recorded.reduce((s, [, ms]) => s + ms, 0);
  return { clock, recorded, timer, total, sum };
}

Deno.test("CallTimer times calls slower than 0.5 ms one by one, exactly", () => {
  const { clock, recorded, timer } = setup();
  for (const ms of [0.6, 2, 30]) {
    clock.now += ms;
    timer.ended(1_000); // the same millisecond: only the stride closes the group
  }
  timer.close(1_000);
  assert.deepEqual(recorded.map(([calls, ms]) => [calls, Math.round(ms * 10) / 10]), [
    [1, 0.6],
    [1, 2],
    [1, 30],
  ]);
});

Deno.test("CallTimer times fast calls in groups that double up to the most, with exact count and sum", () => {
  const { clock, recorded, timer, total, sum } = setup();
  const calls = 1_000;
  for (let i = 0; i < calls; i++) {
    clock.now += 0.0005; // 0.5 µs per call
    timer.ended(1_000);
  }
  timer.close(1_000);
  assert.deepEqual(recorded.slice(0, 8).map(([n]) => n), [1, 2, 4, 8, 16, 32, MAX_STRIDE, 64]);
  assert.equal(total(), calls);
  assert.ok(Math.abs(sum() - calls * 0.0005) < 1e-9);
  assert.ok(clock.reads < calls / 10, `${clock.reads} clock reads for ${calls} calls`);
});

Deno.test("CallTimer ends a group as soon as the millisecond changes", () => {
  const { clock, recorded, timer } = setup();
  for (let i = 0; i < 7; i++) { // groups of 1, 2, 4: the stride is 8 now
    clock.now += 0.001;
    timer.ended(1_000);
  }
  clock.now += 0.001;
  timer.ended(1_000);
  clock.now += 0.001;
  timer.ended(1_001);
  assert.deepEqual(recorded.map(([n]) => n), [1, 2, 4, 2]);
});

Deno.test("CallTimer puts a group's time on its last call when the group took over 0.5 ms, then times one by one", () => {
  const { clock, recorded, timer, total, sum } = setup();
  for (let i = 0; i < 3; i++) { // groups of 1 and 2: the stride is 4 now
    clock.now += 0.001;
    timer.ended(1_000);
  }
  clock.now += 0.001;
  timer.ended(1_000);
  clock.now += 40; // a slow call ends the group
  timer.ended(1_040);
  clock.now += 0.001; // timed alone again
  timer.ended(1_040);
  assert.deepEqual(recorded.slice(2).map(([n, ms]) => [n, Math.round(ms)]), [[1, 0], [1, 40], [
    1,
    0,
  ]]);
  assert.equal(total(), 6);
  assert.ok(Math.abs(sum() - (40 + 5 * 0.001)) < 1e-9);
});

Deno.test("CallTimer leaves out the time between close() and restart(), and records nothing for an empty group", () => {
  const { clock, recorded, timer, sum } = setup();
  clock.now += 1;
  timer.ended(1_000);
  timer.close(1_001);
  timer.close(1_001);
  clock.now += 500; // dead-lettering, a tick
  timer.restart(1_501);
  clock.now += 2;
  timer.ended(1_503);
  timer.close(1_503);
  assert.deepEqual(recorded, [[1, 1], [1, 2]]);
  assert.equal(sum(), 3);
});

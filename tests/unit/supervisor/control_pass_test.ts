import assert from "node:assert/strict";
import {
  controlPass,
  type ControlPolicy,
  type SlotView,
  stallOf,
} from "../../../src/supervisor/control_pass.ts";

const policy = { heartbeatTimeoutMs: 10_000 };
const slot = (over: Partial<SlotView> = {}): SlotView => ({
  id: "c#0",
  empty: false,
  restartAt: 0,
  dead: null,
  lastHeartbeat: 1_000,
  startedAt: 0,
  loading: false,
  startupTimeoutMs: 60_000,
  busySince: null,
  draining: false,
  handlerTimeoutMs: 60_000,
  ...over,
});

Deno.test("controlPass() leaves a healthy worker alone", () => {
  assert.deepEqual(controlPass([slot()], 5_000, policy), []);
});

Deno.test("controlPass() terminates a worker that died by itself", () => {
  assert.deepEqual(controlPass([slot({ dead: "uncaught error: boom" })], 1_500, policy), [
    { kind: "terminate", id: "c#0", reason: "uncaught error: boom" },
  ]);
});

Deno.test("controlPass() terminates a worker silent for longer than the heartbeat timeout", () => {
  assert.deepEqual(controlPass([slot()], 11_000, policy), []);
  assert.deepEqual(controlPass([slot()], 11_001, policy), [
    { kind: "terminate", id: "c#0", reason: "no heartbeat for 10001 ms" },
  ]);
});

Deno.test("controlPass() terminates a worker whose handler runs past its handlerTimeoutMs", () => {
  const busy = slot({ busySince: 2_000, lastHeartbeat: 70_000 });
  assert.deepEqual(controlPass([busy], 62_000, policy), []);
  assert.deepEqual(controlPass([busy], 62_001, policy), [
    { kind: "terminate", id: "c#0", reason: "handler running for 60001 ms" },
  ]);
});

Deno.test("controlPass() does not judge a draining worker by heartbeats or handler time", () => {
  assert.deepEqual(controlPass([slot({ draining: true, busySince: 0 })], 1_000_000, policy), []);
});

Deno.test("controlPass() restarts an empty slot once its backoff passed, one action per slot", () => {
  const empty = slot({ empty: true, restartAt: 5_000, dead: "x" });
  assert.deepEqual(controlPass([empty], 4_999, policy), []);
  assert.deepEqual(controlPass([empty, slot({ id: "d#0", dead: "y" })], 5_000, policy), [
    { kind: "start", id: "c#0" },
    { kind: "terminate", id: "d#0", reason: "y" },
  ]);
});

Deno.test("controlPass() gives a worker importing its handler and running setup() its startupTimeoutMs", () => {
  // A slow setup() heartbeats all along: only the start-up deadline applies.
  const loading = slot({ loading: true, startedAt: 1_000, lastHeartbeat: 61_000 });
  assert.deepEqual(controlPass([loading], 61_000, policy), []);
  assert.deepEqual(controlPass([loading], 61_001, policy), [
    {
      kind: "terminate",
      id: "c#0",
      reason: "handler import and setup() still running after 60001 ms (startupTimeoutMs 60000)",
    },
  ]);
});

Deno.test("controlPass() applies no start-up deadline once the handler is loaded", () => {
  const loaded = slot({ startedAt: 1_000, lastHeartbeat: 100_000 });
  assert.deepEqual(controlPass([loaded], 100_000, policy), []);
});

Deno.test("controlPass() does not take a silent worker that is still loading for a hang: its start-up deadline applies", () => {
  const loading = slot({ loading: true, startedAt: 1_000, lastHeartbeat: 1_000 });
  assert.deepEqual(controlPass([loading], 30_000, policy), []);
});

Deno.test("controlPass: starts only as many slots as places are left under maxLoading, in order", () => {
  const due = (id: string) => slot({ id, empty: true, restartAt: 0 });
  const loadingSlot = (id: string) => slot({ id, loading: true, startedAt: 900 });
  const limited = { ...policy, maxLoading: 3 };
  const starts = (slots: SlotView[], p: ControlPolicy = limited) =>
    controlPass(slots, 1_000, p).filter((a) => a.kind === "start").map((a) => a.id);
  assert.deepEqual(starts([due("a"), due("b"), due("c"), due("d")]), ["a", "b", "c"]);
  assert.deepEqual(starts([loadingSlot("x"), loadingSlot("y"), due("a"), due("b")]), ["a"]);
  assert.deepEqual(starts([loadingSlot("x"), loadingSlot("y"), loadingSlot("z"), due("a")]), []);
  // Loaded workers (running) take no place; without a limit every due slot starts.
  assert.deepEqual(starts([slot({ id: "r" }), due("a"), due("b"), due("c")]), ["a", "b", "c"]);
  assert.deepEqual(starts([loadingSlot("x"), due("a"), due("b"), due("c")], policy), [
    "a",
    "b",
    "c",
  ]);
});

Deno.test("controlPass: a full loading queue does not hold back terminations", () => {
  const actions = controlPass(
    [
      slot({ id: "x", loading: true, startedAt: 0, startupTimeoutMs: 100 }),
      slot({ id: "a", empty: true, restartAt: 0 }),
    ],
    1_000,
    { ...policy, maxLoading: 1 },
  );
  assert.deepEqual(actions.map((a) => [a.kind, a.id]), [["terminate", "x"]]);
});

Deno.test("controlPass: a worker still loading after placeMs (a slow setup()) gives its place up", () => {
  const limited = { ...policy, maxLoading: 1, placeMs: 5_000 };
  const due = slot({ id: "a", empty: true, restartAt: 0 });
  const starts = (loadingSince: number) =>
    controlPass([slot({ id: "x", loading: true, startedAt: loadingSince }), due], 10_000, limited)
      .filter((a) => a.kind === "start").map((a) => a.id);
  assert.deepEqual(starts(6_000), [], "loading for 4 s: still holds the only place");
  assert.deepEqual(starts(4_000), ["a"], "loading for 6 s: the place is free");
});

Deno.test("controlPass() does not count the time the supervisor's loop stood still", () => {
  // The loop stood still from 2 s to 20 s: what workers sent meanwhile is unread.
  const stalled = { ...policy, stalls: [[2_000, 20_000]] as const };
  const silent = slot({ lastHeartbeat: 1_000 });
  const busy = slot({ busySince: 1_000, lastHeartbeat: 1_000, handlerTimeoutMs: 5_000 });
  const loading = slot({ loading: true, startedAt: 1_000, startupTimeoutMs: 5_000 });
  for (const s of [silent, busy, loading]) {
    assert.deepEqual(controlPass([s], 20_000, stalled), []);
    assert.deepEqual(controlPass([s], 24_000, stalled), []);
  }
  // 1 s before the stall and 9.001 s after it.
  assert.deepEqual(controlPass([silent], 29_001, stalled), [
    { kind: "terminate", id: "c#0", reason: "no heartbeat for 10001 ms" },
  ]);
  assert.equal(controlPass([busy], 24_001, stalled)[0]?.kind, "terminate");
  assert.equal(controlPass([loading], 24_001, stalled)[0]?.kind, "terminate");
  // A worker that died by itself is no matter of timing.
  assert.equal(controlPass([slot({ dead: "exit 1" })], 20_000, stalled)[0]?.kind, "terminate");
});

Deno.test("controlPass(): repeated stalls give back only their own time, so a hung handler still ends", () => {
  // A 2 s stall every 9 s: a handler that never finishes, and a worker in a busy loop.
  const stalls = Array.from(
    { length: 40 },
    (_, i) => [9_000 * i + 7_000, 9_000 * i + 9_000] as const,
  );
  const often = { ...policy, stalls };
  const busy = slot({ busySince: 0, lastHeartbeat: 1_000_000, handlerTimeoutMs: 60_000 });
  const silent = slot({ lastHeartbeat: 0 });
  // By 76 s, eight stalls gave back 16 s: 60 s of running time.
  assert.deepEqual(controlPass([busy], 76_000, often), []);
  assert.equal(controlPass([busy], 76_001, often)[0]?.kind, "terminate");
  // By 12 s, one stall gave back 2 s: 10 s of silence.
  assert.deepEqual(controlPass([silent], 12_000, often), []);
  assert.equal(controlPass([silent], 12_001, often)[0]?.kind, "terminate");
});

Deno.test("stallOf() gives back only the time beyond the normal control interval", () => {
  const intervalMs = 500;
  // Passes 500 ms apart, or late but under the threshold (the larger of 1 s and 4 intervals): no stall.
  assert.equal(stallOf(10_000, 10_500, { intervalMs }), null);
  assert.equal(stallOf(10_000, 12_000, { intervalMs }), null);
  // 3 s between passes: 500 ms of it were the interval the loop waits anyway.
  assert.deepEqual(stallOf(10_000, 13_000, { intervalMs }), [10_500, 13_000]);
  assert.deepEqual(stallOf(0, 5_000, { intervalMs: 2_000 }), null);
  assert.deepEqual(stallOf(0, 9_000, { intervalMs: 2_000 }), [2_000, 9_000]);
});

Deno.test("controlPass() with stallOf(): a loop late at every pass still ends a silent worker", () => {
  // The supervisor's loop runs every 2.5 s instead of every 0.5 s, for good; a worker went silent at 0.
  const intervalMs = 500;
  const stalls: Array<readonly [number, number]> = [];
  const silent = slot({ lastHeartbeat: 0 });
  let ended: number | null = null;
  for (let now = 2_500; now <= 120_000 && ended === null; now += 2_500) {
    const stall = stallOf(now - 2_500, now, { intervalMs });
    if (stall !== null) stalls.push(stall);
    if (controlPass([silent], now, { ...policy, stalls })[0]?.kind === "terminate") ended = now;
  }
  // 500 ms of each 2.5 s count: 10 s of silence after 20 passes.
  assert.equal(ended, 52_500, "the silent worker is terminated");
});

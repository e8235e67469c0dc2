import assert from "node:assert/strict";
import type { PartitionProgress } from "../../../src/protocol.ts";
import { consumerStatus, type WorkerView } from "../../../src/supervisor/status.ts";

const consumer = { name: "c", group: "g", topic: "t", mode: "balanced" } as const;
const counters = {
  resets: { "committed": 2, "reset-on-start": 1, "no-committed-offset": 0, "out-of-range": 0 },
  deadLettered: 0,
  handlerErrors: 0,
};
const progress = (p: PartitionProgress[]) => new Map(p.map((x) => [x.partition, x]));

Deno.test("consumerStatus() merges the partitions its workers hold, with lag = high watermark − committed", () => {
  const workers: WorkerView[] = [
    {
      state: "running",
      assigned: [2],
      lastError: null,
      progress: progress([
        { partition: 2, processed: "8", committed: "9", highWatermark: "12" },
        // No longer assigned to this worker: left out.
        { partition: 0, processed: "1", committed: "2", highWatermark: "2" },
      ]),
    },
    {
      state: "running",
      assigned: [0, 1],
      lastError: null,
      progress: progress([
        { partition: 0, processed: "4", committed: "5", highWatermark: "5" },
        { partition: 1, processed: null, committed: null, highWatermark: "3" },
      ]),
    },
  ];
  const status = consumerStatus(consumer, { workers, restarts: 0, failing: false, counters });
  assert.equal(status.state, "running");
  assert.deepEqual(status.partitions.map((p) => [p.partition, p.committed, p.lag]), [
    [0, "5", "0"],
    [1, null, null],
    [2, "9", "3"],
  ]);
  assert.deepEqual(status.resets, counters.resets);
});

Deno.test("consumerStatus() reports failing over any worker state, and the last error", () => {
  const worker: WorkerView = {
    state: "running",
    assigned: [],
    progress: new Map(),
    lastError: { name: "Error", message: "boom", retriable: false },
  };
  const status = consumerStatus(consumer, {
    workers: [worker],
    restarts: 6,
    failing: true,
    counters,
  });
  assert.equal(status.state, "failing");
  assert.equal(status.restarts, 6);
  assert.equal(status.lastError, "boom", "a plain Error by its message, as after the worker died");
});

Deno.test("consumerStatus() is starting until every worker runs, and draining while any drains", () => {
  const w = (state: WorkerView["state"]): WorkerView => ({
    state,
    assigned: [],
    progress: new Map(),
    lastError: null,
  });
  const input = (states: WorkerView["state"][]) => ({
    workers: states.map(w),
    restarts: 0,
    failing: false,
    counters,
  });
  assert.equal(consumerStatus(consumer, input(["running", "starting"])).state, "starting");
  assert.equal(consumerStatus(consumer, input([])).state, "starting");
  assert.equal(consumerStatus(consumer, input(["running", "draining"])).state, "draining");
  assert.equal(consumerStatus(consumer, input(["stopped", "failed"])).state, "stopped");
});

Deno.test("consumerStatus() says why a consumer is not running: waiting, joining, failed", () => {
  const base: WorkerView = {
    state: "starting",
    assigned: [],
    progress: new Map(),
    lastError: null,
  };
  const waiting = consumerStatus(consumer, {
    workers: [{
      ...base,
      problem: { name: "TopicNotFound", message: "topic `t` does not exist", retriable: true },
    }],
    restarts: 0,
    failing: false,
    counters,
  });
  assert.deepEqual([waiting.state, waiting.reason, waiting.ready], [
    "waiting",
    "topic `t` does not exist",
    false,
  ]);
  const joining = consumerStatus(consumer, {
    workers: [{ ...base, state: "running", holdsAssignment: false }],
    restarts: 0,
    failing: false,
    counters,
  });
  assert.equal(joining.state, "joining");
  assert.equal(joining.ready, false);
  const failed = consumerStatus(consumer, {
    workers: [],
    restarts: 1,
    failing: false,
    counters,
    replicas: 1,
    down: [{ replica: 0, reason: "cannot load handler /h.ts: boom" }],
  });
  assert.deepEqual([failed.state, failed.reason, failed.lastError], [
    "failed",
    "cannot load handler /h.ts: boom; restarting",
    "cannot load handler /h.ts: boom",
  ]);
  const paused = [{ partition: 0, reason: "handler failed after retries: x" }, {
    partition: 3,
    reason: "gone",
  }];
  const running = consumerStatus(consumer, {
    workers: [{ ...base, state: "running", assigned: [0, 1], holdsAssignment: true }],
    restarts: 0,
    failing: false,
    counters,
    paused,
  });
  assert.deepEqual([running.state, running.ready, running.reason], ["running", true, null]);
  assert.deepEqual(running.partitions.map((p) => p.partition), [0, 1], "assigned, no report yet");
  assert.deepEqual(running.paused.map((p) => p.partition), [0], "only held partitions");
  // Every partition it holds paused: stalled, still ready (it holds them; a restart would not help).
  const stalled = consumerStatus(consumer, {
    workers: [{ ...base, state: "running", assigned: [0], holdsAssignment: true }],
    restarts: 0,
    failing: false,
    counters,
    paused,
  });
  assert.deepEqual([stalled.state, stalled.ready, stalled.reason], [
    "stalled",
    true,
    "every partition it holds is paused — 0: handler failed after retries: x",
  ]);
  // A consumer holding nothing (more replicas than partitions) is not stalled.
  const idle = consumerStatus(consumer, {
    workers: [{ ...base, state: "running", assigned: [], holdsAssignment: true }],
    restarts: 0,
    failing: false,
    counters,
    paused,
  });
  assert.equal(idle.state, "running");
});

Deno.test("consumerStatus(): a replica held for an unchecked handler makes the consumer waiting, with why", () => {
  const reason =
    "handler /srv/a.ts was edited after it was checked: its workers start once a reload " +
    "checks the new version (or the checked version is back)";
  const held = consumerStatus(consumer, {
    workers: [],
    restarts: 0,
    failing: false,
    counters,
    replicas: 1,
    down: [{ replica: 0, reason, held: true }],
  });
  assert.equal(held.state, "waiting");
  assert.equal(held.reason, reason);
  const crashed = consumerStatus(consumer, {
    workers: [],
    restarts: 1,
    failing: false,
    counters,
    replicas: 2,
    down: [{ replica: 0, reason, held: true }, { replica: 1, reason: "uncaught error: x" }],
  });
  assert.equal(crashed.state, "failed", "a crashed replica comes first");
  assert.equal(crashed.reason, "uncaught error: x; restarting");
});

Deno.test("consumerStatus() shows a replica parked for an instance id in use as failed, with no restart coming", () => {
  const reason = 'instance id pod-0.c.0 is in use by another member of group "g" (another daemon ' +
    "with kafka.instanceId pod-0?)";
  const parked = consumerStatus(consumer, {
    workers: [],
    restarts: 0,
    failing: false,
    counters,
    replicas: 1,
    down: [{ replica: 0, reason, parked: true }],
  });
  assert.equal(parked.state, "failed");
  assert.equal(parked.reason, `${reason}; not restarted`);
  assert.equal(parked.ready, false);
});

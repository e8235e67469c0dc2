import assert from "node:assert/strict";
import { parseConfig } from "../../../src/config/parse.ts";
import { createLogger } from "../../../src/log.ts";
import { PROTOCOL_VERSION, type WorkerMessage } from "../../../src/protocol.ts";
import { ConsumerRun } from "../../../src/supervisor/consumer_run.ts";
import type { PositionsReply } from "../../../src/supervisor/start_settler.ts";

/** A worker message without its version field. */
type Unversioned<M> = M extends unknown ? Omit<M, "v"> : never;

/** A consumer of `replicas` replicas, with or without resetOffsetOnStart. */
function consumerOf(replicas: number, resetOffsetOnStart: boolean) {
  const config = parseConfig(
    [
      "consumers:",
      "  - name: audit",
      "    group: g",
      "    topic: t",
      "    handler: ./a.ts",
      `    replicas: ${replicas}`,
      `    resetOffsetOnStart: ${resetOffsetOnStart}`,
    ].join("\n"),
    { file: "/srv/consumers.yaml" },
  );
  return config.consumers[0]!;
}

/** A run with its answers and log records collected. */
function runOf(replicas: number, resetOffsetOnStart: boolean, movesInTwoSteps = false) {
  const clock = { ms: 0 };
  const sent: PositionsReply[] = [];
  const logged: Array<{ level: string; msg: string; partitions?: number[] }> = [];
  const run = new ConsumerRun(consumerOf(replicas, resetOffsetOnStart), {
    now: performance.now(),
    deliver: (reply) => sent.push(reply),
    movesInTwoSteps,
    clock: () => clock.ms,
  });
  const log = createLogger({ write: (line) => logged.push(JSON.parse(line)) });
  const receive = (replica: number, message: Unversioned<WorkerMessage>) =>
    run.receive(replica, { v: PROTOCOL_VERSION, ...message } as WorkerMessage, log);
  return { run, sent, logged, receive, log, clock };
}

Deno.test("ConsumerRun answers assignments once every replica has one, and only when the consumer resets on start", () => {
  for (const resetOffsetOnStart of [true, false]) {
    const { sent, receive } = runOf(2, resetOffsetOnStart);
    receive(0, { type: "assigned", generation: 1, partitions: [0, 1], awaitingPositions: true });
    assert.equal(sent.length, 0, "the start settles with every replica's assignment");
    receive(1, { type: "assigned", generation: 1, partitions: [2], awaitingPositions: true });
    const answered = sent.map((r) => [r.replica, r.generation, [...r.resetOnStart].sort()]);
    assert.deepEqual(
      answered.sort(),
      resetOffsetOnStart ? [[0, 1, [0, 1]], [1, 1, [2]]] : [],
      `resetOffsetOnStart: ${resetOffsetOnStart}`,
    );
  }
});

Deno.test("ConsumerRun counts resets by reason, dead letters and failed handler calls, and logs its start once", () => {
  const { run, logged, receive } = runOf(1, false);
  receive(0, { type: "assigned", generation: 1, partitions: [0, 1], awaitingPositions: false });
  receive(0, {
    type: "started",
    generation: 1,
    started: [
      { partition: 0, offset: "5", reason: "committed" },
      { partition: 1, offset: "0", reason: "no-committed-offset" },
    ],
    abandoned: [],
  });
  receive(0, { type: "deadLettered", count: 3 });
  const error = { name: "Error", message: "boom", retriable: false };
  receive(0, { type: "error", error, fatal: false });
  receive(0, { type: "error", error: { ...error, retriable: true }, fatal: false });
  receive(0, { type: "error", error, fatal: true });
  receive(0, { type: "reset", partition: 1 });
  assert.deepEqual(run.resets, {
    "committed": 1,
    "reset-on-start": 0,
    "no-committed-offset": 1,
    "out-of-range": 1,
  });
  assert.equal(run.deadLettered, 3);
  assert.equal(
    run.handlerErrors,
    4,
    "3 dead-lettered and 1 failed call, not the retriable or fatal",
  );
  assert.equal(run.ready, true);
  assert.deepEqual(
    logged.map((r) => `${r.level} ${r.msg}`),
    ["info consumer started", "warn offset out of range; partition moved to autoOffsetReset"],
  );
});

Deno.test("ConsumerRun under the consumer protocol waits for a partition held by no replica, and once it stayed away, logs its dropped reset and the start", () => {
  const { run, sent, logged, receive, log, clock } = runOf(2, true, true);
  const reset = (partition: number) => ({
    partition,
    offset: "0",
    reason: "reset-on-start" as const,
  });
  receive(0, { type: "assigned", generation: 1, partitions: [0, 1], awaitingPositions: true });
  receive(1, { type: "assigned", generation: 1, partitions: [], awaitingPositions: true });
  receive(1, { type: "started", generation: 1, started: [], abandoned: [] });
  // The coordinator takes partition 1 back from replica 0 before it reset it.
  receive(0, { type: "assigned", generation: 2, partitions: [0], awaitingPositions: true });
  receive(0, { type: "started", generation: 1, started: [], abandoned: [0, 1] });
  receive(0, { type: "started", generation: 2, started: [reset(0)], abandoned: [] });
  assert.deepEqual(sent.map((r) => [r.replica, r.generation, r.resetOnStart]), [
    [0, 1, [0, 1]],
    [1, 1, []],
    [0, 2, [0]],
  ]);
  assert.deepEqual([run.settler.moving, run.ready, logged.length], [true, false, 0]);
  run.expireMoves(10_000, log);
  assert.equal(logged.length, 0, "not away for 10 s yet");
  // It stayed away: it went to another daemon's member.
  clock.ms = 10_000;
  run.expireMoves(10_000, log);
  assert.deepEqual(logged.map((r) => [r.msg, r.partitions]), [
    ["reset on start dropped: the partitions left this daemon before their reset", [1]],
    ["consumer started", undefined],
  ]);
  assert.equal(run.ready, true);
});

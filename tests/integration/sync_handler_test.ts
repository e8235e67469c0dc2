/**
 * The worker loop with handlers that never await (20 ms of synchronous work
 * per message), on the real broker, in this process: the loop still lets
 * its event loop turn about once a second, so the worker's heartbeat timer
 * (and the client's own timers and I/O) keep running through a batch that
 * takes seconds, and through a fetch round made of many short batches (each
 * under a second, one partition after another), on each engine and mode.
 *
 * @module
 */
import assert from "node:assert/strict";
import type { Engine } from "../../src/config/types.ts";
import { ENGINES, produceNumbered, uniqueName, waitFor, withTopic } from "../harness/kafka.ts";
import { fixtureHandler } from "../harness/daemon.ts";
import { firstStart, type LocalWorker, startLocalWorker } from "../harness/worker_loop.ts";

const SPIN = fixtureHandler("spin.ts");
const SPIN_BATCH = fixtureHandler("spin_batch.ts");
const MESSAGES = 200; // 4 s of handler work, in one batch
const HEARTBEAT_MS = 100;
/** The longest a heartbeat may be late: a turn (1 s) and a call, with room for a loaded machine. */
const MOST_GAP_MS = 1600;
/** A round of short batches: 6 partitions × 25 messages × 20 ms, 0.5 s a batch, 3 s a round. */
const PARTITIONS = 6;
const PER_PARTITION = 25;

for (const engine of ENGINES) {
  for (const mode of ["balanced", "simple"] as const) {
    Deno.test(`worker loop (${engine}, ${mode}): a synchronous handler's 4 s batch lets heartbeats through at least every ${MOST_GAP_MS} ms; each message handled once`, async () => {
      Deno.env.set("SPIN_MS", "20");
      Deno.env.set("COMMIT_EVERY", "50");
      const { handled } = await import(SPIN);
      await withTopic({ partitions: 1 }, async ({ topic, admin }) => {
        await produceNumbered(admin, topic, { count: MESSAGES, partitions: 1 });
        const from = handled.length;
        const worker = await startLocalWorker(
          { group: uniqueName("g"), topic, mode, handler: SPIN, commit: { mode: "manual" } },
          { engine, heartbeatIntervalMs: HEARTBEAT_MS },
        );
        try {
          const longest = await longestHeartbeatGap(
            worker,
            () => handled.length - from >= MESSAGES,
          );
          assert.ok(
            longest < MOST_GAP_MS,
            `longest time without a heartbeat while handling: ${Math.round(longest)} ms`,
          );
          const mine = handled.slice(from);
          assert.equal(mine.length, MESSAGES, "one call per message");
          assert.equal(new Set(mine).size, MESSAGES);
        } finally {
          await worker.stop();
        }
      });
    });

    Deno.test(`worker loop (${engine}, ${mode}): a fetch round of ${PARTITIONS} short synchronous batches lets heartbeats through at least every ${MOST_GAP_MS} ms`, async () => {
      await shortBatchesRun(engine, mode, SPIN);
    });
  }
  Deno.test(`worker loop (${engine}, simple): a fetch round of ${PARTITIONS} synchronous handleBatch calls lets heartbeats through at least every ${MOST_GAP_MS} ms`, async () => {
    await shortBatchesRun(engine, "simple", SPIN_BATCH);
  });
}

/** `handler` (spin.ts or spin_batch.ts) over a round of short batches: no heartbeat gap of the round. */
async function shortBatchesRun(
  engine: Engine,
  mode: "balanced" | "simple",
  handler: string,
): Promise<void> {
  Deno.env.set("SPIN_MS", "20");
  Deno.env.set("COMMIT_EVERY", "0");
  const { handled } = await import(handler);
  const messages = PARTITIONS * PER_PARTITION;
  await withTopic({ partitions: PARTITIONS }, async ({ topic, admin }) => {
    await produceNumbered(admin, topic, { count: messages, partitions: PARTITIONS });
    const from = handled.length;
    const worker = await startLocalWorker(
      { group: uniqueName("g"), topic, mode, handler },
      { engine, heartbeatIntervalMs: HEARTBEAT_MS },
    );
    try {
      const longest = await longestHeartbeatGap(worker, () => handled.length - from >= messages);
      assert.ok(
        longest < MOST_GAP_MS,
        `longest time without a heartbeat while handling: ${Math.round(longest)} ms`,
      );
      assert.equal(new Set(handled.slice(from)).size, messages, "every message handled once");
    } finally {
      await worker.stop();
    }
  });
}

/** Waits for `done`; returns the longest time between heartbeats from the first start until then. */
async function longestHeartbeatGap(worker: LocalWorker, done: () => boolean): Promise<number> {
  const started = (await firstStart(worker)).at;
  await waitFor(done, { timeoutMs: 60_000, what: "every message handled" });
  const ended = performance.now();
  const times = [
    started,
    ...worker.of("heartbeat").map((h) => h.at).filter((at) => at > started && at < ended),
    ended,
  ];
  return Math.max(...times.slice(1).map((at, i) => at - times[i]!));
}

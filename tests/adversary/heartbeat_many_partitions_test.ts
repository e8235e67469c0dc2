/**
 * Adversary (issue 20, heartbeat yield): the event loop turns only inside a
 * batch that runs longer than a tick (`now - tick >= tickMs`, per batch).
 * A fetch round that hands many partitions' short batches one after the
 * other (each under a second of synchronous work) never reaches
 * `TurnPacer.turn()`, and nothing else in the round yields a macrotask:
 * the worker's heartbeat timer does not fire for the whole round.
 *
 * Here: 8 partitions × 40 messages × 20 ms = 6.4 s in one round, each
 * partition's batch 0.8 s. The claim under test is the same as
 * tests/integration/sync_handler_test.ts's: a heartbeat at least every
 * 1600 ms while handling.
 */
import assert from "node:assert/strict";
import { ENGINES, produceNumbered, uniqueName, waitFor, withTopic } from "../harness/kafka.ts";
import { fixtureHandler } from "../harness/daemon.ts";
import { firstStart, startLocalWorker } from "../harness/worker_loop.ts";

const SPIN = fixtureHandler("spin.ts");
const PARTITIONS = 8;
const PER_PARTITION = 40; // 0.8 s of work per partition's batch: below the 1 s tick
const MESSAGES = PARTITIONS * PER_PARTITION;
const HEARTBEAT_MS = 100;
const MOST_GAP_MS = 1600;

for (const engine of ENGINES) {
  for (const mode of ["balanced", "simple"] as const) {
    Deno.test(`adversary: worker loop (${engine}, ${mode}): a round of ${PARTITIONS} short synchronous batches still lets heartbeats through every ${MOST_GAP_MS} ms`, async () => {
      Deno.env.set("SPIN_MS", "20");
      Deno.env.set("COMMIT_EVERY", "0");
      const { handled } = await import(SPIN);
      await withTopic({ partitions: PARTITIONS }, async ({ topic, admin }) => {
        await produceNumbered(admin, topic, { count: MESSAGES, partitions: PARTITIONS });
        const from = handled.length;
        const worker = await startLocalWorker(
          { group: uniqueName("g"), topic, mode, handler: SPIN },
          { engine, heartbeatIntervalMs: HEARTBEAT_MS },
        );
        try {
          const started = (await firstStart(worker)).at;
          await waitFor(() => handled.length - from >= MESSAGES, {
            timeoutMs: 60_000,
            what: `${MESSAGES} handled messages`,
          });
          const ended = performance.now();
          const times = [
            started,
            ...worker.of("heartbeat").map((h) => h.at).filter((at) => at > started && at < ended),
            ended,
          ];
          const longest = Math.max(...times.slice(1).map((at, i) => at - times[i]!));
          assert.ok(
            longest < MOST_GAP_MS,
            `longest time without a heartbeat while handling: ${Math.round(longest)} ms`,
          );
        } finally {
          await worker.stop();
        }
      });
    });
  }
}

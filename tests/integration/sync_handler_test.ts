/**
 * The worker loop with a per-message handler that never awaits (20 ms of
 * synchronous work per message), on the real broker, in this process: the
 * loop still lets its event loop turn about once a tick, so the worker's
 * heartbeat timer (and the client's own timers and I/O) keep running
 * through a batch that takes seconds, on each engine and mode.
 *
 * @module
 */
import assert from "node:assert/strict";
import { ENGINES, produceNumbered, uniqueName, waitFor, withTopic } from "../harness/kafka.ts";
import { fixtureHandler } from "../harness/daemon.ts";
import { firstStart, startLocalWorker } from "../harness/worker_loop.ts";

const SPIN = fixtureHandler("spin.ts");
const MESSAGES = 200; // 4 s of handler work, in one batch
const HEARTBEAT_MS = 100;
/** The longest a heartbeat may be late: a tick (1 s) and a call, with room for a loaded machine. */
const MOST_GAP_MS = 1600;

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
          const started = (await firstStart(worker)).at;
          await waitFor(() => handled.length - from >= MESSAGES, {
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
          const mine = handled.slice(from);
          assert.equal(mine.length, MESSAGES, "one call per message");
          assert.equal(new Set(mine).size, MESSAGES);
        } finally {
          await worker.stop();
        }
      });
    });
  }
}

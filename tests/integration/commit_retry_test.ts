/**
 * Auto commits that fail, on the real broker through the Kafka-aware proxy
 * (tests/harness/kafka_proxy.ts): one that fails in passing is tried again
 * while the partition stays idle, so its committed offset reaches the end
 * of what was handled; one that Kafka refuses for good (a simple-mode
 * commit while the group has members) stops the worker with the reason,
 * for the supervisor to restart it and report the consumer failing.
 *
 * @module
 */
import assert from "node:assert/strict";
import { fixtureHandler } from "../harness/daemon.ts";
import { API } from "../harness/kafka_frames.ts";
import { startKafkaProxy } from "../harness/kafka_proxy.ts";
import {
  ENGINES,
  joinGroup,
  produceNumbered,
  uniqueName,
  waitFor,
  withTopic,
} from "../harness/kafka.ts";
import { firstStart, startLocalWorker } from "../harness/worker_loop.ts";

const COLLECT = fixtureHandler("collect.ts");
const INTERVAL_MS = 1000;
/** How long OffsetCommits fail: longer than the clients try a commit again by themselves. */
const OUTAGE_MS = 4000;

for (const engine of ENGINES) {
  for (const mode of ["balanced", "simple"] as const) {
    Deno.test(`worker loop (${engine}, ${mode}): the last auto commits failed and nothing more arrives: committed reaches the high watermark within a few intervals`, async () => {
      const proxy = await startKafkaProxy();
      try {
        await withTopic({ partitions: 1 }, async ({ topic, admin }) => {
          const group = uniqueName("g");
          // The start's commit goes through; then, for a while, no OffsetCommit reaches the
          // broker (each connection is cut as one arrives): the batch's auto commit fails.
          const cut = proxy.cut(API.offsetCommit, { when: "request", after: 1, times: Infinity });
          const worker = await startLocalWorker({
            group,
            topic,
            mode,
            handler: COLLECT,
            commit: { mode: "auto", intervalMs: INTERVAL_MS },
          }, { engine, brokers: proxy.brokers });
          try {
            await firstStart(worker);
            await produceNumbered(admin, topic, { count: 20, partitions: 1 });
            await cut.first;
            await new Promise((r) => setTimeout(r, OUTAGE_MS));
            proxy.uncut(API.offsetCommit);
            const failedAt = performance.now();
            await waitFor(async () => (await admin.committed(group, topic))[0]?.offset === "20", {
              what: "committed offset 20",
              timeoutMs: 10 * INTERVAL_MS,
              intervalMs: 50,
            });
            // The retry rides the commit interval; the first attempt after the outage may
            // still meet a connection the client has to open again (its own backoff), so the
            // bound allows a few intervals. Without the retry the offset never moves at all.
            const tookMs = performance.now() - failedAt;
            assert.ok(
              tookMs <= 5 * INTERVAL_MS,
              `committed reached 20 ${Math.round(tookMs)} ms after commits went through again`,
            );
            assert.deepEqual(worker.of("error").filter((e) => e.fatal), []);
          } finally {
            await worker.stop();
          }
        });
      } finally {
        proxy.close();
      }
    });
  }
}

for (const engine of ENGINES) {
  Deno.test(`worker loop (${engine}, simple): an auto commit refused because the group has members stops the worker with that reason`, async () => {
    await withTopic({ partitions: 1 }, async ({ topic, admin }) => {
      const group = uniqueName("g");
      const worker = await startLocalWorker(
        { group, topic, mode: "simple", handler: COLLECT },
        { engine },
      );
      let member: { leave(): Promise<void> } | null = null;
      try {
        await firstStart(worker);
        // A balanced member joins the group after the simple consumer started.
        member = await joinGroup(group, topic);
        await produceNumbered(admin, topic, { count: 5, partitions: 1 });
        const error = await waitFor(() => worker.of("error").find((e) => e.fatal), {
          what: "a fatal error",
        });
        assert.equal(error.error.name, "CommitRejectedError");
        assert.equal(error.error.retriable, false);
        assert.match(error.error.message, /without membership: the group has active members/);
      } finally {
        await member?.leave();
        await worker.stop();
      }
    });
  });
}

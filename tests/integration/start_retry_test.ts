/**
 * A start whose OffsetCommit was applied but whose answer was lost (the
 * Kafka-aware proxy cuts the connection when the answer arrives) is retried
 * with the positions it decided the first time: a `latest` reset is not
 * decided again at the new end of the log, so messages produced before the
 * retry are handled. A start answered with a reset that an abandoned start
 * decided (the supervisor's `positions` carries it) applies that decision
 * while it stands, and otherwise resumes from the committed offset someone
 * moved it to: it never decides a second reset.
 *
 * @module
 */
import assert from "node:assert/strict";
import { fixtureHandler } from "../harness/daemon.ts";
import { API } from "../harness/kafka_frames.ts";
import { startKafkaProxy } from "../harness/kafka_proxy.ts";
import { ENGINES, produceNumbered, uniqueName, waitFor, withTopic } from "../harness/kafka.ts";
import { startLocalWorker } from "../harness/worker_loop.ts";

const COLLECT = fixtureHandler("collect.ts");
/**
 * Answers lost in a row: kafkajs tries a commit up to six times itself before begin() fails (the
 * platformatic engine once), and the worker's own retry must come after the first lost answer.
 */
const LOSE = { kafkajs: 6, platformatic: 1 };

for (const engine of ENGINES) {
  for (const mode of ["balanced", "simple"] as const) {
    Deno.test(`worker loop (${engine}, ${mode}): a start retried after its commit's answer was lost keeps its latest reset; the 50 messages produced before the retry are handled`, async () => {
      const { handled } = await import(COLLECT);
      const proxy = await startKafkaProxy();
      try {
        await withTopic({ partitions: 1 }, async ({ topic, admin }) => {
          await produceNumbered(admin, topic, { count: 10, partitions: 1, prefix: "old" });
          const lost = proxy.cut(API.offsetCommit, { times: LOSE[engine] });
          const from = handled.length;
          const worker = await startLocalWorker({
            group: uniqueName("g"),
            topic,
            mode,
            handler: COLLECT,
            autoOffsetReset: "latest",
            resetOffsetOnStart: true,
          }, { engine, brokers: proxy.brokers });
          try {
            // The supervisor's answer: the start settled holding partition 0.
            const assigned = await waitFor(() => worker.of("assigned")[0], { what: "assigned" });
            worker.loop.positions(assigned.generation, [0]);
            // The begin's commit of offset 10 was applied and its answer lost; the start is
            // tried again (within the client, then by the worker after a backoff).
            await lost.first;
            await produceNumbered(admin, topic, { count: 50, partitions: 1, prefix: "new" });
            await lost.all;
            const started = await waitFor(
              () => worker.of("started").find((s) => s.started.length > 0),
              { what: "the start", timeoutMs: 30_000 },
            );
            await admin.produce(topic, [{ value: "last", partition: 0 }]);
            await waitFor(() => handled.slice(from).includes("0:60"), {
              what: "offset 60 handled",
            });
            assert.deepEqual(started.started, [{
              partition: 0,
              offset: "10",
              reason: "reset-on-start",
            }]);
            assert.deepEqual(
              handled.slice(from),
              Array.from({ length: 51 }, (_, i) => `0:${10 + i}`),
            );
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
  Deno.test(`worker loop (${engine}, simple): a reset decided by an abandoned start is applied as decided while it stands, and yields to a committed offset moved since`, async () => {
    const { handled } = await import(COLLECT);
    await withTopic({ partitions: 2 }, async ({ topic, admin }) => {
      await produceNumbered(admin, topic, { count: 40, partitions: 2 });
      const group = uniqueName("g");
      // Decided from committed 4 (latest: 10); partition 0 still has 4 (the commit was not
      // applied), partition 1 has 15 (another member read on from the reset).
      await admin.setOffsets(group, topic, [{ partition: 0, offset: "4" }, {
        partition: 1,
        offset: "15",
      }]);
      const decided = [0, 1].map((partition) => ({
        partition,
        offset: "10",
        reason: "reset-on-start" as const,
        committed: "4",
      }));
      const from = handled.length;
      const worker = await startLocalWorker({
        group,
        topic,
        mode: "simple",
        handler: COLLECT,
        autoOffsetReset: "latest",
        resetOffsetOnStart: true,
      }, { engine });
      try {
        const assigned = await waitFor(() => worker.of("assigned")[0], { what: "assigned" });
        worker.loop.positions(assigned.generation, [0, 1], decided);
        const started = await waitFor(
          () => worker.of("started").find((s) => s.started.length > 0),
          { what: "the start" },
        );
        assert.deepEqual(started.started, [
          { partition: 0, offset: "10", reason: "reset-on-start" },
          { partition: 1, offset: "15", reason: "committed" },
        ]);
        assert.deepEqual(
          worker.of("decided").flatMap((d) => d.resets),
          [decided[0]],
          "the reset still standing is reported again before its commit",
        );
        await waitFor(() => handled.length - from >= 15, { what: "15 messages handled" });
        assert.deepEqual(handled.slice(from).sort(), [
          ...Array.from({ length: 10 }, (_, i) => `0:${10 + i}`),
          ...Array.from({ length: 5 }, (_, i) => `1:${15 + i}`),
        ]);
      } finally {
        await worker.stop();
      }
    });
  });
}

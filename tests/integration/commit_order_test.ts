/**
 * The worker's own commit against the commits the session makes after each
 * batch, on the real broker through the Kafka-aware proxy (which holds
 * OffsetCommits back, as a slow coordinator would). A batch that ends in a
 * transaction marker is committed past the marker by the session; a
 * handler's `ctx.commit()` computed from the worker's own bookkeeping
 * (which ends at the last message handled, before the marker) and landing
 * after it must not leave the committed offset behind.
 *
 * @module
 */
import assert from "node:assert/strict";
import { fixtureHandler } from "../harness/daemon.ts";
import { API } from "../harness/kafka_frames.ts";
import { startKafkaProxy } from "../harness/kafka_proxy.ts";
import {
  ENGINES,
  transactionalProducer,
  uniqueName,
  waitFor,
  withTopic,
} from "../harness/kafka.ts";
import { firstStart, startLocalWorker } from "../harness/worker_loop.ts";

const HOLD_MS = 1000;

for (const engine of ENGINES) {
  Deno.test(`worker loop (${engine}, simple): a ctx.commit() landing after the session's commit past a transaction marker does not leave committed behind it`, async () => {
    const proxy = await startKafkaProxy();
    const producer = await transactionalProducer();
    try {
      await withTopic({ partitions: 2 }, async ({ topic, admin }) => {
        const group = uniqueName("g");
        const worker = await startLocalWorker({
          group,
          topic,
          mode: "simple",
          handler: fixtureHandler("commit_midway.ts"),
        }, { engine, brokers: proxy.brokers });
        try {
          await firstStart(worker);
          proxy.delay(API.offsetCommit, HOLD_MS);
          // Partition 0: offsets 0-9 and the commit marker at 10; partition 1: a message that
          // asks for a commit (handled after partition 0's batch, while its commit is held).
          const tx = await producer.transaction();
          await tx.send({
            topic,
            messages: [
              ...Array.from({ length: 10 }, (_, i) => ({ value: `m-${i}`, partition: 0 })),
              { value: "commit", partition: 1 },
            ],
          });
          await tx.commit();
          const expected = [{ partition: 0, offset: "11" }, { partition: 1, offset: "2" }];
          const settled = async () =>
            JSON.stringify(await admin.committed(group, topic)) === JSON.stringify(expected);
          // Both batches' commits and the handler's have landed by then (each held 1 s).
          await waitFor(settled, { what: "committed past both markers", timeoutMs: 10 * HOLD_MS })
            .catch(() => {});
          await new Promise((r) => setTimeout(r, 3 * HOLD_MS));
          assert.deepEqual(await admin.committed(group, topic), expected);
        } finally {
          proxy.delay(API.offsetCommit, 0);
          await worker.stop();
        }
      });
    } finally {
      await producer.disconnect();
      proxy.close();
    }
  });
}

/**
 * A committed offset below -1 (kafkajs commits -2 for "earliest" after an
 * out-of-range reset; Kafka's tools can set any) points at nothing: the
 * worker starts the partition as out of range, on each engine and mode.
 * Only -1 means that the group has no committed offset.
 *
 * @module
 */
import assert from "node:assert/strict";
import { fixtureHandler } from "../harness/daemon.ts";
import { ENGINES, produceNumbered, uniqueName, withTopic } from "../harness/kafka.ts";
import { firstStart, startLocalWorker } from "../harness/worker_loop.ts";

for (const engine of ENGINES) {
  for (const mode of ["balanced", "simple"] as const) {
    Deno.test(`worker loop (${engine}, ${mode}): a committed offset of -2 starts the partition as out of range, not as one without a committed offset`, async () => {
      await withTopic({ partitions: 1 }, async ({ topic, admin }) => {
        const group = uniqueName("g");
        await produceNumbered(admin, topic, { count: 5, partitions: 1 });
        await admin.setOffsets(group, topic, [{ partition: 0, offset: "-2" }]);
        const worker = await startLocalWorker(
          { group, topic, mode, handler: fixtureHandler("collect.ts") },
          { engine },
        );
        try {
          const { started } = await firstStart(worker);
          assert.deepEqual(started, [{ partition: 0, offset: "0", reason: "out-of-range" }]);
        } finally {
          await worker.stop();
        }
      });
    });
  }
}

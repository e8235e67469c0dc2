/**
 * Every session writes a commit's metadata and reads it back with the
 * committed offset: both engines, both modes, against the real broker.
 *
 * @module
 */
import assert from "node:assert/strict";
import { startSession } from "../../src/kafka/engine.ts";
import type { Assignment, ConsumerSession } from "../../src/kafka/session.ts";
import { MetadataTooLargeError } from "../../src/kafka/commit_rejected.ts";
import { createLogger } from "../../src/log.ts";
import {
  ENGINES,
  kafkaWith,
  produceNumbered,
  TEST_SESSION,
  uniqueName,
  waitFor,
  withTopic,
} from "../harness/kafka.ts";

for (const engine of ENGINES) {
  for (const mode of ["balanced", "simple"] as const) {
    Deno.test(`${engine} ${mode}: begin() and commit() write metadata; describe() reads it back`, async () => {
      await withTopic({ partitions: 2 }, async ({ topic, admin }) => {
        await produceNumbered(admin, topic, { count: 20, partitions: 2 });
        const group = uniqueName("g");
        const assigned: Assignment[] = [];
        const session: ConsumerSession = await startSession(engine, mode, {
          kafka: kafkaWith(engine),
          clientIdSuffix: "metadata-test",
          group,
          topic,
          ...TEST_SESSION,
          autoCommit: false,
          logger: createLogger({ level: "warn" }),
          onBatch: () => Promise.resolve(),
          onAssigned: (a) => assigned.push(a),
          onCommitted: () => {},
          onOutOfRange: () => {},
          onFatal: (error) => {
            throw error;
          },
        });
        try {
          await waitFor(() => assigned.length > 0, { what: "an assignment" });
          const { generation } = assigned.at(-1)!;
          const states = await session.describe([0, 1]);
          assert.deepEqual(states.map((s) => [s.committed, s.metadata]), [[null, null], [
            null,
            null,
          ]]);
          await session.begin(generation, [
            { partition: 0, offset: "3", metadata: "cd1:3:bAQ" },
            { partition: 1, offset: "0" },
          ]);
          assert.deepEqual(
            (await session.describe([0, 1])).map((s) => [s.committed, s.metadata]),
            [["3", "cd1:3:bAQ"], ["0", null]],
          );
          // A 4000-character metadata fits the broker's default limit.
          const long = `cd1:5:b${"A".repeat(3993)}`;
          await session.commit([
            { partition: 0, offset: "5", metadata: long },
            { partition: 1, offset: "2", metadata: "cd1:2:rAQE" },
          ]);
          assert.deepEqual(
            (await session.describe([0, 1])).map((s) => [s.committed, s.metadata]),
            [["5", long], ["2", "cd1:2:rAQE"]],
          );
          // Longer than the broker's offset.metadata.max.bytes (4096 by default): refused as such.
          await assert.rejects(
            session.commit([{ partition: 0, offset: "5", metadata: "x".repeat(5000) }]),
            MetadataTooLargeError,
          );
          // A commit without metadata clears it.
          await session.commit([{ partition: 0, offset: "6" }]);
          assert.deepEqual(
            (await session.describe([0])).map((s) => [s.committed, s.metadata]),
            [["6", null]],
          );
        } finally {
          await session.stop();
        }
      });
    });
  }
}

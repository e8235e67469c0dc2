/**
 * Balanced sessions await `onRevoking` before they rejoin: while it runs the
 * group cannot complete its rebalance, and a commit made in it lands under
 * the generation that still owns the partitions. Both engines, real broker.
 *
 * @module
 */
import assert from "node:assert/strict";
import { startSession } from "../../src/kafka/engine.ts";
import type { Assignment, ConsumerSession } from "../../src/kafka/session.ts";
import { createLogger } from "../../src/log.ts";
import {
  ENGINES,
  joinGroup,
  kafkaWith,
  produceNumbered,
  TEST_SESSION,
  uniqueName,
  waitFor,
  withTopic,
} from "../harness/kafka.ts";

for (const engine of ENGINES) {
  Deno.test(`${engine} balanced: onRevoking holds the rejoin, and its commit counts`, async () => {
    await withTopic({ partitions: 2 }, async ({ topic, admin }) => {
      await produceNumbered(admin, topic, { count: 20, partitions: 2 });
      const group = uniqueName("g");
      const assigned: Array<Assignment & { at: number }> = [];
      const revoking: Array<{ partitions: number[]; at: number; done: number }> = [];
      let session: ConsumerSession | null = null;
      const commitErrors: unknown[] = [];
      let committedInHook: Array<[string | null, string | null]> = [];
      session = await startSession(engine, "balanced", {
        kafka: kafkaWith(engine),
        clientIdSuffix: "revoke-test",
        group,
        topic,
        ...TEST_SESSION,
        autoCommit: false,
        logger: createLogger({ level: "warn" }),
        onBatch: () => Promise.resolve(),
        onAssigned: (a) => assigned.push({ ...a, at: Date.now() }),
        onCommitted: () => {},
        onOutOfRange: () => {},
        onFatal: (error) => commitErrors.push(error),
        onRevoking: async (partitions) => {
          const entry = { partitions, at: Date.now(), done: 0 };
          revoking.push(entry);
          // Longer than a heartbeat interval: the membership must be kept meanwhile.
          await new Promise((r) => setTimeout(r, 4000));
          await session!.commit(
            partitions.map((partition) => ({ partition, offset: "4", metadata: "cd1:4:bAQ" })),
          ).catch((error) => commitErrors.push(error));
          // Read back before the rejoin: the new owner of a partition commits on its own after it.
          committedInHook = (await session!.describe(partitions)).map((s) => [
            s.committed,
            s.metadata,
          ]);
          entry.done = Date.now();
        },
      });
      let other: { leave(): Promise<void> } | null = null;
      try {
        await waitFor(() => assigned.length > 0, { what: "the first assignment" });
        const first = assigned[0]!;
        assert.deepEqual(first.partitions, [0, 1]);
        await session.begin(first.generation, [
          { partition: 0, offset: "0" },
          { partition: 1, offset: "0" },
        ]);
        other = await joinGroup(group, topic);
        await waitFor(() => assigned.length > 1, { what: "the assignment after the rebalance" });
        assert.equal(revoking.length, 1, "the hook ran once, before the rejoin");
        assert.deepEqual(revoking[0]!.partitions, [0, 1]);
        assert.ok(revoking[0]!.done > 0, "the hook finished before the next assignment");
        assert.ok(assigned[1]!.at >= revoking[0]!.done, "the new assignment came after it");
        assert.deepEqual(commitErrors, [], "the commit under the old generation was accepted");
        assert.deepEqual(committedInHook, [["4", "cd1:4:bAQ"], ["4", "cd1:4:bAQ"]]);
      } finally {
        await other?.leave();
        await session.stop();
      }
    });
  });
}

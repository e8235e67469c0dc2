/**
 * A commit is not held behind the fetch in flight: once a partition is read
 * to its end, the broker holds the next Fetch for up to `fetch.maxWaitMs`
 * waiting for records, and a broker answers the requests of one connection
 * in order. A commit sent on the connection of that Fetch lands only when
 * the Fetch returns — a pipeline's last outputs stay uncommitted that long.
 * Both engines, against the real broker.
 *
 * @module
 */
import assert from "node:assert/strict";
import { startSession } from "../../src/kafka/engine.ts";
import type { Assignment, ConsumerSession, FetchedBatch } from "../../src/kafka/session.ts";
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

/** How long the broker may hold a Fetch that finds no record. */
const MAX_WAIT_MS = 6_000;
/** A commit after a batch lands well within this (the broker answers it in milliseconds). */
const COMMIT_WITHIN_MS = MAX_WAIT_MS / 2;

for (const engine of ENGINES) {
  Deno.test(`${engine}: the commit after a partition's last batch lands while the next Fetch waits for records`, async () => {
    await withTopic({ partitions: 1 }, async ({ topic, admin }) => {
      await produceNumbered(admin, topic, { count: 5, partitions: 1 });
      const assigned: Assignment[] = [];
      let handledAt = 0;
      let committedAt = 0;
      const session: ConsumerSession = await startSession(engine, "simple", {
        kafka: kafkaWith(engine),
        clientIdSuffix: "commit-during-fetch",
        group: uniqueName("g"),
        topic,
        ...TEST_SESSION,
        fetch: { ...TEST_SESSION.fetch, maxWaitMs: MAX_WAIT_MS },
        logger: createLogger({ level: "warn" }),
        onBatch: (batch: FetchedBatch) => {
          batch.resolve(batch.at(batch.size - 1).offset);
          handledAt = performance.now();
          return Promise.resolve();
        },
        onAssigned: (a) => assigned.push(a),
        onCommitted: (offsets) => {
          if (offsets.some((o) => o.partition === 0 && o.offset === "5")) {
            committedAt ||= performance.now();
          }
        },
        onOutOfRange: () => {},
        onFatal: (error) => {
          throw error;
        },
      });
      try {
        await waitFor(() => assigned.length > 0, { what: "an assignment" });
        await session.begin(assigned.at(-1)!.generation, [{ partition: 0, offset: "0" }]);
        await waitFor(() => committedAt > 0, {
          what: "offset 5 committed",
          timeoutMs: 3 * MAX_WAIT_MS,
        });
        const lagMs = Math.round(committedAt - handledAt);
        assert.ok(
          lagMs < COMMIT_WITHIN_MS,
          `offset 5 was committed ${lagMs} ms after its batch ended (fetch.maxWaitMs ${MAX_WAIT_MS})`,
        );
      } finally {
        await session.stop();
      }
    });
  });
}

/**
 * A balanced consumer joins with any session timeout the configuration
 * allows (`kafka.sessionTimeoutMs`, 6 s to 30 min), on both engines, real
 * broker: its rebalance timeout is never shorter than its session timeout,
 * which @platformatic/kafka refuses when the consumer is created.
 *
 * @module
 */
import assert from "node:assert/strict";
import { startSession } from "../../src/kafka/engine.ts";
import type { Assignment } from "../../src/kafka/session.ts";
import { createLogger } from "../../src/log.ts";
import {
  ENGINES,
  kafkaWith,
  TEST_SESSION,
  uniqueName,
  waitFor,
  withTopic,
} from "../harness/kafka.ts";

for (const engine of ENGINES) {
  Deno.test(`${engine} balanced: a session timeout over 60 s joins the group`, async () => {
    await withTopic({ partitions: 2 }, async ({ topic }) => {
      const assigned: Assignment[] = [];
      const fatal: unknown[] = [];
      const session = await startSession(engine, "balanced", {
        kafka: { ...kafkaWith(engine), sessionTimeoutMs: 90_000 },
        clientIdSuffix: "timing-test",
        group: uniqueName("g"),
        topic,
        ...TEST_SESSION,
        maxHandlerMs: 30_000,
        logger: createLogger({ level: "warn" }),
        onBatch: () => Promise.resolve(),
        onAssigned: (a) => assigned.push(a),
        onCommitted: () => {},
        onOutOfRange: () => {},
        onFatal: (error) => fatal.push(error),
      });
      try {
        await waitFor(() => assigned.length > 0 || fatal.length > 0, {
          what: "the first assignment",
        });
        assert.deepEqual(fatal, []);
        assert.deepEqual(assigned[0]!.partitions, [0, 1]);
      } finally {
        await session.stop();
      }
    });
  });
}

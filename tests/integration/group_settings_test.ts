/**
 * A balanced consumer joins with any group settings the configuration
 * allows, on both engines, real broker: a session timeout up to 30 min (its
 * rebalance timeout is never shorter, which @platformatic/kafka refuses when
 * the consumer is created), and a group id with whitespace (which the
 * library's own options check refused; Kafka accepts it).
 *
 * @module
 */
import assert from "node:assert/strict";
import { startSession } from "../../src/kafka/engine.ts";
import type { Assignment } from "../../src/kafka/session.ts";
import type { Engine } from "../../src/config/types.ts";
import { createLogger } from "../../src/log.ts";
import {
  ENGINES,
  kafkaWith,
  TEST_SESSION,
  uniqueName,
  waitFor,
  withTopic,
} from "../harness/kafka.ts";

async function firstAssignment(
  engine: Engine,
  topic: string,
  group: string,
  sessionTimeoutMs: number,
): Promise<Assignment> {
  const assigned: Assignment[] = [];
  const fatal: unknown[] = [];
  const session = await startSession(engine, "balanced", {
    kafka: { ...kafkaWith(engine), sessionTimeoutMs },
    clientIdSuffix: "group-settings-test",
    group,
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
    await waitFor(() => assigned.length > 0 || fatal.length > 0, { what: "the first assignment" });
    assert.deepEqual(fatal, []);
    return assigned[0]!;
  } finally {
    await session.stop();
  }
}

for (const engine of ENGINES) {
  Deno.test(`${engine} balanced: a session timeout over 60 s joins the group`, async () => {
    await withTopic({ partitions: 2 }, async ({ topic }) => {
      const first = await firstAssignment(engine, topic, uniqueName("g"), 90_000);
      assert.deepEqual(first.partitions, [0, 1]);
    });
  });

  Deno.test(`${engine} balanced: a group id with a space joins the group`, async () => {
    await withTopic({ partitions: 1 }, async ({ topic }) => {
      const first = await firstAssignment(engine, topic, `${uniqueName("g")} orders`, 30_000);
      assert.deepEqual(first.partitions, [0]);
    });
  });
}

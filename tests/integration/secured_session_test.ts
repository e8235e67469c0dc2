/**
 * Sessions of both engines over the test broker's secured listeners with the mechanisms the daemon
 * tests (tests/e2e/secured_broker_test.ts, SCRAM-SHA-512) leave out: SCRAM-SHA-256 and PLAIN on
 * SASL_SSL, and SSL without SASL. Each reads a topic from its start and commits its end.
 *
 * @module
 */
import assert from "node:assert/strict";
import { startSession } from "../../src/kafka/engine.ts";
import { batchMessages } from "../../src/kafka/session.ts";
import { createLogger } from "../../src/log.ts";
import {
  ENGINES,
  produceNumbered,
  TEST_SESSION,
  uniqueName,
  waitFor,
  withTopic,
} from "../harness/kafka.ts";
import { securedKafka, type SecuredOptions } from "../harness/secured_kafka.ts";

const LISTENERS: Array<[string, SecuredOptions]> = [
  ["SASL_SSL with SCRAM-SHA-256", { mechanism: "scram-sha-256" }],
  ["SASL_SSL with PLAIN", { mechanism: "plain" }],
  ["SSL without SASL", { listener: "ssl" }],
];

Deno.test("sessions of both engines read and commit over SASL_SSL (SCRAM-SHA-256, PLAIN) and SSL", async () => {
  await withTopic({ partitions: 1, prefix: "secured" }, async ({ topic, admin }) => {
    await produceNumbered(admin, topic, { count: 5, partitions: 1 });
    for (const engine of ENGINES) {
      for (const [name, options] of LISTENERS) {
        const group = uniqueName("g");
        const kafka = { ...await securedKafka(options), engine };
        const delivered: string[] = [];
        const fatal: unknown[] = [];
        let assigned = false;
        const session = await startSession(engine, "simple", {
          ...TEST_SESSION,
          kafka,
          clientIdSuffix: "secured",
          group,
          topic,
          logger: createLogger({ level: "error" }),
          onBatch: (batch) => {
            for (const m of batchMessages(batch)) {
              delivered.push(m.text());
              batch.resolve(m.offset);
            }
            return Promise.resolve();
          },
          onAssigned: () => (assigned = true),
          onCommitted: () => {},
          onOutOfRange: () => {},
          onFatal: (error) => fatal.push(error),
        });
        try {
          await waitFor(() => assigned, { what: `${engine} over ${name}: assigned` });
          await session.begin(1, [{ partition: 0, offset: "0" }]);
          await waitFor(() => delivered.length >= 5, { what: `${engine} over ${name}: 5 read` });
          await waitFor(async () => (await admin.committed(group, topic))[0]?.offset === "5", {
            what: `${engine} over ${name}: offset 5 committed`,
          });
          assert.deepEqual(delivered, ["m-0", "m-1", "m-2", "m-3", "m-4"], `${engine}, ${name}`);
          assert.deepEqual(fatal, []);
        } finally {
          await session.stop();
        }
      }
    }
  });
});

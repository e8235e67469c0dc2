/**
 * The daemon against the test broker's SASL_SSL listener (TLS with the broker's own CA, then
 * SCRAM-SHA-512), on each runtime with both engines in one daemon: it consumes and commits, and
 * the password appears nowhere.
 */
import assert from "node:assert/strict";
import {
  type DaemonProcess,
  fixtureHandler,
  RUNTIMES,
  startDaemon,
  writeConfig,
} from "../harness/daemon.ts";
import { produceNumbered, uniqueName, waitFor, withTopic } from "../harness/kafka.ts";
import { securedKafka } from "../harness/secured_kafka.ts";
import type { KafkaConfig } from "../../src/config/types.ts";

const ENGINES = ["kafkajs", "platformatic"] as const;

/** The `kafka:` section for `kafka`, its password read from `SASL_PASSWORD` as a user would. */
function kafkaSection(kafka: KafkaConfig, brokers = kafka.brokers): Record<string, unknown> {
  return {
    brokers,
    ssl: kafka.ssl,
    sasl: kafka.sasl === null ? null : { ...kafka.sasl, password: "${SASL_PASSWORD}" },
  };
}

/** One consumer per engine on `topic`, each in its own group. */
function consumerPerEngine(topic: string): Array<Record<string, unknown>> {
  return ENGINES.map((engine) => ({
    name: engine,
    engine,
    group: uniqueName(`g-${engine}`),
    topic,
    handler: fixtureHandler("record.ts"),
    commit: { mode: "auto", intervalMs: 200 },
  }));
}

/** Every line the daemon wrote that holds `secret`. */
function linesWith(daemon: DaemonProcess, secret: string): string[] {
  return daemon.stderr.filter((line) => line.includes(secret));
}

for (const runtime of RUNTIMES) {
  Deno.test(`daemon on ${runtime} consumes and commits over SASL_SSL with SCRAM-SHA-512, on both engines`, async () => {
    await withTopic({ partitions: 2, prefix: "secured" }, async ({ topic, admin }) => {
      await produceNumbered(admin, topic, { count: 20, partitions: 2 });
      const kafka = await securedKafka({ mechanism: "scram-sha-512" });
      const consumers = consumerPerEngine(topic);
      const config = await writeConfig({
        kafka: kafkaSection(kafka),
        http: { listen: false },
        consumers,
      });
      const password = kafka.sasl!.password;
      const daemon = startDaemon(config, { runtime, env: { SASL_PASSWORD: password } });
      try {
        for (const engine of ENGINES) {
          await waitFor(
            () => daemon.logged("handled").filter((r) => r.consumer === engine).length >= 20,
            { timeoutMs: 60_000, what: `20 messages handled by the ${engine} consumer` },
          );
        }
        const high = (await admin.watermarks(topic)).map((w) => [w.partition, w.high]);
        for (const { group, name } of consumers) {
          await waitFor(async () => {
            const committed = await admin.committed(String(group), topic);
            return JSON.stringify(committed.map((c) => [c.partition, c.offset])) ===
              JSON.stringify(high);
          }, { what: `the ${name} consumer's offsets committed at the high watermarks` });
        }
        const handled = daemon.logged("handled");
        assert.equal(handled.length, 40, "each message once per consumer");
      } finally {
        assert.equal(await daemon.stop(), 0, "drained and exited 0");
      }
      assert.deepEqual(linesWith(daemon, password), [], "the password in no log line");
    });
  });
}

/**
 * B1: a raw kafkajs consumer in one process, with the fetch settings
 * consumerd's balanced session uses (src/kafka/kafkajs/balanced_session.ts). Runs
 * unchanged on Node, Deno and Bun.
 *
 *   node bench/clients/kafkajs_consumer.mjs <brokers> <topic> <group> <expected> batch|message
 *
 * @module
 */
import process from "node:process";
import { Kafka, logLevel } from "kafkajs";
import { clientArgs, counter, emit, stdinClosed } from "./report.mjs";

const { brokers, topic, group, expected, mode } = clientArgs();
const kafka = new Kafka({ clientId: "bench-kafkajs", brokers, logLevel: logLevel.WARN });
const consumer = kafka.consumer({
  groupId: group,
  sessionTimeout: 30_000,
  rebalanceTimeout: 60_000,
  heartbeatInterval: 3_000,
  maxWaitTimeInMs: 500,
  // minBytes 1, maxBytes 10 MiB and maxBytesPerPartition 1 MiB: kafkajs's
  // defaults, which consumerd keeps.
});
const see = counter(expected);

try {
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  await consumer.run(
    mode === "batch"
      ? {
        // Async like a real handler (and like consumerd's generated one), though it awaits nothing.
        // deno-lint-ignore require-await
        eachBatch: async ({ batch }) => {
          for (const message of batch.messages) see(message.value);
        },
      }
      : {
        // deno-lint-ignore require-await
        eachMessage: async ({ message }) => {
          see(message.value);
        },
      },
  );
  await stdinClosed();
  await consumer.disconnect();
  process.exit(0);
} catch (error) {
  emit("error", { message: String(error?.stack ?? error) });
  process.exit(1);
}

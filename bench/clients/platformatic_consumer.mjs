/**
 * B2: a raw @platformatic/kafka consumer in one process, with the same fetch
 * settings as the kafkajs clients (maxWaitTime 500 ms, minBytes 1, 10 MiB
 * per fetch, 1 MiB per partition). Messages arrive one by one through its
 * stream, so there is only the per-message mode.
 *
 *   node bench/clients/platformatic_consumer.mjs <brokers> <topic> <group> <expected> message
 *
 * @module
 */
import process from "node:process";
import { Consumer } from "@platformatic/kafka";
import { clientArgs, counter, emit, stdinClosed } from "./report.mjs";

const { brokers, topic, group, expected } = clientArgs();
const consumer = new Consumer({
  groupId: group,
  clientId: "bench-platformatic",
  bootstrapBrokers: brokers,
  sessionTimeout: 30_000,
  rebalanceTimeout: 60_000,
  heartbeatInterval: 3_000,
  minBytes: 1,
  maxBytes: 10 * 1024 * 1024,
  maxBytesPerPartition: 1024 * 1024,
  maxWaitTime: 500,
});
const see = counter(expected);

try {
  const stream = await consumer.consume({ topics: [topic], mode: "earliest", autocommit: true });
  stream.on("data", (message) => see(message.value));
  stream.on("error", (error) => {
    emit("error", { message: String(error?.stack ?? error) });
    process.exit(1);
  });
  await stdinClosed();
  await stream.close();
  await consumer.close();
  process.exit(0);
} catch (error) {
  emit("error", { message: String(error?.stack ?? error) });
  process.exit(1);
}

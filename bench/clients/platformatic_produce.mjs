/**
 * The raw @platformatic/kafka consume→produce loop of the benchmark's
 * produce section: consumes the input topic from earliest (the consumer
 * clients' fetch settings, no autocommit) and writes one output per input,
 * its value as is, to the input's partition of the output topic. Messages
 * are handled in batches: whatever arrived while the previous batch was
 * being written.
 *
 * - `alo`: an idempotent producer (acks all); a batch's input offsets are
 *   committed once every output of the batch was acknowledged.
 * - `eos`: a transactional producer; one transaction per batch carries the
 *   outputs and the input offsets (the consumer's group metadata).
 *
 * It prints `{"bench":"first"}` at the first input; the benchmark ends the
 * window when the group's committed offsets reach the end of the input.
 *
 *   node bench/clients/platformatic_produce.mjs <brokers> <topic> <group> <output> alo|eos
 *
 * @module
 */
import process from "node:process";
import { Consumer, Producer } from "@platformatic/kafka";
import { emit, stdinClosed } from "./report.mjs";

const [brokerList, topic, group, output, delivery] = process.argv.slice(2);
if (!brokerList || !topic || !group || !output || (delivery !== "alo" && delivery !== "eos")) {
  throw new TypeError("usage: <brokers> <topic> <group> <output topic> alo|eos");
}
const bootstrapBrokers = brokerList.split(",");
const transactional = delivery === "eos";
/** Stop reading while this many inputs wait for their batch. */
const MAX_PENDING = 20_000;
/**
 * About the most value bytes one send carries: the library puts a send's records for a partition
 * in one record batch, which the broker refuses above its `message.max.bytes` (1 MiB).
 */
const MAX_SEND_BYTES = 512 * 1024;

const consumer = new Consumer({
  groupId: group,
  clientId: "bench-platformatic-produce",
  bootstrapBrokers,
  sessionTimeout: 30_000,
  rebalanceTimeout: 60_000,
  heartbeatInterval: 3_000,
  minBytes: 1,
  maxBytes: 10 * 1024 * 1024,
  maxBytesPerPartition: 1024 * 1024,
  maxWaitTime: 500,
});
const producer = new Producer({
  clientId: "bench-platformatic-produce-out",
  bootstrapBrokers,
  idempotent: true,
  autocreateTopics: false,
  ...(transactional
    ? { transactionalId: `bench-${group}`, producerId: -1n, producerEpoch: -1 }
    : {}),
});

let pending = [];
let writing = false;
let stream = null;
let seen = 0;

/** The last message of each partition in `batch` (its offset is what gets committed). */
function lastPerPartition(batch) {
  const last = new Map();
  for (const message of batch) last.set(message.partition, message);
  return [...last.values()];
}

/** `messages` in sends of at most {@linkcode MAX_SEND_BYTES} of values (at least one each). */
function chunks(messages) {
  const out = [];
  let current = [];
  let bytes = 0;
  for (const message of messages) {
    const size = message.value?.byteLength ?? 0;
    if (current.length > 0 && bytes + size > MAX_SEND_BYTES) {
      out.push(current);
      current = [];
      bytes = 0;
    }
    current.push(message);
    bytes += size;
  }
  if (current.length > 0) out.push(current);
  return out;
}

async function write(batch) {
  const messages = batch.map((m) => ({ topic: output, value: m.value, partition: m.partition }));
  if (!transactional) {
    for (const chunk of chunks(messages)) await producer.send({ messages: chunk, acks: -1 });
    await consumer.commit({
      offsets: lastPerPartition(batch).map((m) => ({
        topic: m.topic,
        partition: m.partition,
        offset: m.offset + 1n,
        leaderEpoch: m.leaderEpoch,
      })),
    });
    return;
  }
  const transaction = await producer.beginTransaction();
  try {
    for (const chunk of chunks(messages)) await transaction.send({ messages: chunk, acks: -1 });
    await transaction.addConsumer(consumer);
    for (const message of lastPerPartition(batch)) await transaction.addOffset(message);
    await transaction.commit();
  } catch (error) {
    await transaction.abort().catch(() => {});
    throw error;
  }
}

/** Writes batches until none waits (`writing` is set by the caller). */
async function drain() {
  try {
    while (pending.length > 0) {
      const batch = pending;
      pending = [];
      if (stream.isPaused()) stream.resume();
      await write(batch);
    }
  } catch (error) {
    emit("error", { message: String(error?.stack ?? error) });
    process.exit(1);
  } finally {
    writing = false;
  }
}

try {
  stream = await consumer.consume({ topics: [topic], mode: "earliest", autocommit: false });
  stream.on("data", (message) => {
    if (seen++ === 0) emit("first");
    pending.push(message);
    if (pending.length >= MAX_PENDING) stream.pause();
    if (!writing) {
      // The rest of the fetch arrives in this turn: it joins the batch.
      writing = true;
      setImmediate(drain);
    }
  });
  stream.on("error", (error) => {
    emit("error", { message: String(error?.stack ?? error) });
    process.exit(1);
  });
  await stdinClosed();
  await stream.close();
  await consumer.close();
  await producer.close();
  process.exit(0);
} catch (error) {
  emit("error", { message: String(error?.stack ?? error) });
  process.exit(1);
}

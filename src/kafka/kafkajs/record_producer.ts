/**
 * A worker's one producer on the kafkajs engine (see ../record_producer.ts):
 * idempotent, acks all, created and connected on first use.
 *
 * Records sent while a request to their topic is in flight go together in
 * the next one, in the order they were sent: a handler that awaits each
 * produce writes in its own order, and many calls producing at once share
 * requests instead of waiting one round trip each.
 *
 * @module
 */
import { Buffer } from "node:buffer";
import type { Message as KafkajsMessage, Producer } from "kafkajs";
import type { KafkaConfig } from "../../config/types.ts";
import type { ProduceRecord, RecordBytes } from "../../produce_record.ts";
import {
  CLOSE_FLUSH_MS,
  closedError,
  flushesEnded,
  type RecordProducer,
  type RecordProducerOptions,
} from "../record_producer.ts";
import { createKafka } from "./client.ts";
import { MAX_BYTES_PER_REQUEST } from "../request_bytes.ts";
import { missingPartition } from "../missing_partition.ts";

/** The most records one request to a topic carries. */
const MAX_RECORDS_PER_REQUEST = 1000;

interface Queued {
  record: ProduceRecord;
  message: KafkajsMessage;
  /** Its key, value and header bytes. */
  bytes: number;
  resolve(): void;
  reject(error: unknown): void;
}

function toBuffer(bytes: RecordBytes): Buffer {
  return typeof bytes === "string"
    ? Buffer.from(bytes)
    : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** About the bytes `message` takes in a request: key, value and headers. */
function recordBytes(message: KafkajsMessage): number {
  let bytes = (message.key?.length ?? 0) + (message.value?.length ?? 0);
  for (const [name, value] of Object.entries(message.headers ?? {})) {
    for (const one of Array.isArray(value) ? value : [value]) {
      bytes += name.length + (one?.length ?? 0);
    }
  }
  return bytes;
}

function kafkajsMessage(record: ProduceRecord & { timestamp?: string }): KafkajsMessage {
  const headers: Record<string, Buffer | Buffer[]> = {};
  for (const [name, value] of Object.entries(record.headers ?? {})) {
    // A header may repeat: kafkajs takes its values as an array.
    if (Array.isArray(value)) headers[name] = value.map(toBuffer);
    else if (value !== undefined) headers[name] = toBuffer(value);
  }
  return {
    key: record.key === undefined || record.key === null ? null : toBuffer(record.key),
    value: record.value === null ? null : toBuffer(record.value),
    headers,
    ...(record.partition === undefined ? {} : { partition: record.partition }),
    ...(record.timestamp === undefined ? {} : { timestamp: record.timestamp }),
  };
}

/** How many of the first queued records go in the next request (at least one). */
export function requestSize(queue: ReadonlyArray<{ bytes: number }>): number {
  let bytes = 0;
  let count = 0;
  for (const queued of queue) {
    if (count === MAX_RECORDS_PER_REQUEST) break;
    if (count > 0 && bytes + queued.bytes > MAX_BYTES_PER_REQUEST) break;
    bytes += queued.bytes;
    count++;
  }
  return count;
}

/**
 * Creates the producer of a worker (kafkajs, idempotent), connected on
 * first use or by `connect()`; a failed connect is forgotten, so the next
 * record connects again.
 *
 * @example
 * ```ts ignore
 * const producer = createKafkajsProducer(kafka, { clientIdSuffix: "audit-0", logger });
 * await producer.send({ topic: "orders.enriched", key: "k", value: "v" });
 * ```
 */
export function createKafkajsProducer(
  kafka: KafkaConfig,
  { clientIdSuffix, logger, settled }: RecordProducerOptions,
): RecordProducer {
  let producer: Producer | null = null;
  let connected: Promise<void> | null = null;
  const queues = new Map<string, Queued[]>();
  /** The flush under way of each topic: close() lets them end. */
  const flushing = new Map<string, Promise<void>>();
  /** Closed with the worker: a record sent after that fails instead of connecting again. */
  let closed = false;

  const connect = (): Promise<void> => {
    producer ??= createKafka(kafka, { clientIdSuffix: `${clientIdSuffix}-out`, logger })
      .producer({ allowAutoTopicCreation: false, idempotent: true });
    const client = producer;
    return connected ??= client.connect().catch((error) => {
      connected = null;
      throw error;
    });
  };

  const fail = (queued: Queued, error: unknown) => {
    settled?.(queued.record, true);
    queued.reject(error);
  };

  /** Sends `topic`'s queued records, a request at a time, until none is left. */
  const flush = async (topic: string) => {
    try {
      // Records sent in the same turn as the first one join its request.
      await Promise.resolve();
      let queue = queues.get(topic);
      while (queue !== undefined && queue.length > 0) {
        const batch = queue.splice(0, requestSize(queue));
        try {
          await connect();
          const sent = await producer!.send({
            topic,
            acks: -1,
            messages: batch.map((q) => q.message),
          });
          // kafkajs leaves out, without a word, records for a partition the topic does not have.
          const written = new Set(sent.map((r) => r.partition));
          for (const queued of batch) {
            const { partition } = queued.message;
            if (partition === undefined || written.has(partition)) {
              settled?.(queued.record, false);
              queued.resolve();
            } else fail(queued, missingPartition(topic, partition));
          }
        } catch (error) {
          for (const queued of batch) fail(queued, error);
        }
        queue = queues.get(topic);
      }
      queues.delete(topic);
    } finally {
      flushing.delete(topic);
    }
  };

  return {
    send(record) {
      if (closed) return Promise.reject(closedError());
      return new Promise<void>((resolve, reject) => {
        const message = kafkajsMessage(record);
        const bytes = recordBytes(message);
        let queue = queues.get(record.topic);
        if (queue === undefined) queues.set(record.topic, queue = []);
        queue.push({ record, message, bytes, resolve, reject });
        if (!flushing.has(record.topic)) flushing.set(record.topic, flush(record.topic));
      });
    },
    connect,
    async close(flushMs = CLOSE_FLUSH_MS) {
      closed = true;
      // What was sent before goes out first, for a while, and a connect under way ends: a
      // disconnect in its middle would leave its sockets open.
      await flushesEnded(flushing.values(), flushMs);
      await connected?.catch(() => {});
      if (producer !== null) await producer.disconnect();
    },
  };
}

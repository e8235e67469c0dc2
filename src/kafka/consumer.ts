/**
 * A group consumer session on kafkajs: fetched batches in, resolved and
 * committed offsets out. The worker loop drives it without seeing kafkajs.
 *
 * @module
 */
import type { Consumer, EachBatchPayload, KafkaMessage } from "kafkajs";
import type { KafkaConfig } from "../config/types.ts";
import type { Logger } from "../log.ts";
import { createMessage, type Message } from "../worker/message.ts";
import { createKafka } from "./client.ts";

/** One partition's worth of fetched messages, in offset order. */
export interface FetchedBatch {
  partition: number;
  highWatermark: string;
  messages: Message[];
  /** Marks every message up to and including `offset` as finished. */
  resolve(offset: string): void;
  /** Stops fetching this partition until {@linkcode ConsumerSession.resume}. */
  pause(): void;
  /** False once the session is stopping or the partition moved: stop handling the batch. */
  active(): boolean;
  /** Keeps the group membership alive during long batches. */
  heartbeat(): Promise<void>;
}

/** An offset to commit, in Kafka's next-offset convention. */
export interface PartitionOffset {
  partition: number;
  offset: string;
}

/** Options for {@linkcode startConsumerSession}. */
export interface ConsumerSessionOptions {
  kafka: KafkaConfig;
  clientIdSuffix: string;
  group: string;
  topic: string;
  /** Where to start a partition with no committed offset. */
  autoOffsetReset: "earliest" | "latest";
  /** Commit finished offsets automatically (after batches and on rebalance). */
  autoCommit: boolean;
  logger: Logger;
  onBatch(batch: FetchedBatch): Promise<void>;
  onAssigned(partitions: number[]): void;
  onCommitted(offsets: PartitionOffset[]): void;
  /** The session failed and will not restart by itself. */
  onFatal(error: unknown): void;
}

/** A running consumer session. */
export interface ConsumerSession {
  commit(offsets: PartitionOffset[]): Promise<void>;
  resume(partitions: number[]): void;
  /** Stops fetching, waits for the batch in hand, commits, leaves the group. */
  stop(): Promise<void>;
}

function toMessage(topic: string, partition: number, m: KafkaMessage): Message {
  return createMessage({
    topic,
    partition,
    offset: m.offset,
    key: m.key ? new Uint8Array(m.key.buffer, m.key.byteOffset, m.key.byteLength) : null,
    value: m.value ? new Uint8Array(m.value.buffer, m.value.byteOffset, m.value.byteLength) : null,
    headers: (m.headers ?? {}) as Message["headers"],
    timestamp: m.timestamp,
  });
}

/**
 * Connects, joins `group`, subscribes to `topic` and starts fetching.
 * Resolves once the consumer runs; connection failures are retried by
 * kafkajs and then reported through `onFatal`.
 */
export async function startConsumerSession(
  options: ConsumerSessionOptions,
): Promise<ConsumerSession> {
  const { topic, logger } = options;
  const kafka = createKafka(options.kafka, { clientIdSuffix: options.clientIdSuffix, logger });
  const consumer: Consumer = kafka.consumer({
    groupId: options.group,
    sessionTimeout: 30_000,
    rebalanceTimeout: 60_000,
    heartbeatInterval: 3_000,
    maxWaitTimeInMs: 500,
    retry: { initialRetryTime: 300, maxRetryTime: 30_000, retries: 8 },
  });
  consumer.on(consumer.events.GROUP_JOIN, (event) => {
    const assignment = event.payload.memberAssignment[topic] ?? [];
    options.onAssigned([...assignment].sort((a, b) => a - b));
  });
  consumer.on(consumer.events.COMMIT_OFFSETS, (event) => {
    const offsets = event.payload.topics
      .filter((t) => t.topic === topic)
      .flatMap((t) =>
        t.partitions.map((p) => ({ partition: Number(p.partition), offset: p.offset }))
      );
    if (offsets.length > 0) options.onCommitted(offsets);
  });
  consumer.on(consumer.events.CRASH, (event) => {
    if (!event.payload.restart) options.onFatal(event.payload.error);
  });
  await consumer.connect();
  await consumer.subscribe({
    topics: [topic],
    fromBeginning: options.autoOffsetReset === "earliest",
  });
  await consumer.run({
    autoCommit: options.autoCommit,
    eachBatchAutoResolve: false,
    eachBatch: async (payload: EachBatchPayload) => {
      const { batch } = payload;
      await options.onBatch({
        partition: batch.partition,
        highWatermark: batch.highWatermark,
        messages: batch.messages.map((m) => toMessage(topic, batch.partition, m)),
        resolve: (offset) => payload.resolveOffset(offset),
        pause: () => void payload.pause(),
        active: () => payload.isRunning() && !payload.isStale(),
        heartbeat: () => payload.heartbeat(),
      });
    },
  });
  return {
    async commit(offsets) {
      if (offsets.length === 0) return;
      await consumer.commitOffsets(
        offsets.map((o) => ({ topic, partition: o.partition, offset: o.offset })),
      );
    },
    resume(partitions) {
      consumer.resume([{ topic, partitions }]);
    },
    async stop() {
      await consumer.disconnect();
    },
  };
}

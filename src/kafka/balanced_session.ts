/**
 * Balanced mode: group membership through kafkajs's consumer.
 *
 * Every new assignment is paused synchronously inside kafkajs's GROUP_JOIN
 * event (before kafkajs fetches anything for it), and stays paused until the
 * worker decided each partition's start position and `begin()` committed it.
 * `begin()` then seeks kafkajs to that position, and the first batch of each
 * partition is checked to start exactly there.
 *
 * @module
 */
import type { Admin, Consumer, EachBatchPayload, KafkaMessage } from "kafkajs";
import { type Message, recordOf } from "../message.ts";
import { createKafka } from "./client.ts";
import {
  type ConsumerSession,
  type PartitionOffset,
  type PartitionState,
  type SessionOptions,
  StaleAssignmentError,
} from "./session.ts";

/** Converts a kafkajs message into a handler {@linkcode Message}. */
export function toMessage(topic: string, partition: number, m: KafkaMessage): Message {
  // kafkajs's Buffers are Uint8Arrays already: no copy, no new view.
  return recordOf(
    topic,
    partition,
    m.offset,
    m.key ?? null,
    m.value ?? null,
    (m.headers ?? {}) as Message["headers"],
    m.timestamp,
  );
}

/** Reads committed offsets and watermarks with an admin client. */
export async function describePartitions(
  admin: Admin,
  group: string,
  topic: string,
  partitions: number[],
): Promise<PartitionState[]> {
  const [committed, watermarks] = await Promise.all([
    admin.fetchOffsets({ groupId: group, topics: [topic] }),
    admin.fetchTopicOffsets(topic),
  ]);
  const byPartition = new Map(
    (committed[0]?.partitions ?? []).map((p) => [p.partition, p.offset === "-1" ? null : p.offset]),
  );
  const marks = new Map(watermarks.map((w) => [w.partition, w]));
  return partitions.map((partition) => {
    const w = marks.get(partition);
    if (!w) throw new Error(`Partition ${partition} of topic ${topic} does not exist`);
    return {
      partition,
      committed: byPartition.get(partition) ?? null,
      logStartOffset: w.low,
      highWatermark: w.high,
    };
  });
}

/** Connects, joins the group and starts the kafkajs consumer (every partition paused until `begin()`). */
export async function startBalancedSession(options: SessionOptions): Promise<ConsumerSession> {
  const { topic, logger } = options;
  const kafka = createKafka(options.kafka, {
    clientIdSuffix: options.clientIdSuffix,
    logger,
    onLog: (message, fields) => {
      // kafkajs recovers from OFFSET_OUT_OF_RANGE by committing autoOffsetReset's position.
      if (
        message.startsWith("Offset out of range, resetting to default offset") &&
        fields.topic === topic
      ) {
        // kafkajs commits a placeholder (-1 or -2) there, then reads from the
        // position it stands for: the first batch commits the real offset.
        outOfRange.add(Number(fields.partition));
        options.onOutOfRange(Number(fields.partition));
      }
    },
  });
  const consumer: Consumer = kafka.consumer({
    groupId: options.group,
    sessionTimeout: 30_000,
    // How long the group waits for this member to rejoin during a rebalance:
    // as long as a handler call may run (Java's max.poll.interval.ms), so
    // that a call in progress finishes and is committed before the rejoin.
    rebalanceTimeout: Math.max(60_000, options.maxHandlerMs),
    heartbeatInterval: 3_000,
    maxWaitTimeInMs: options.fetch.maxWaitMs,
    maxBytesPerPartition: options.fetch.maxBytesPerPartition,
    maxBytes: options.fetch.maxBytes,
    retry: { initialRetryTime: 300, maxRetryTime: 5_000, retries: 5 },
  });
  const admin = kafka.admin();
  /** The admin's connection; forgotten when it fails, so that the next use connects again. */
  let adminConnected: Promise<void> | null = null;
  const connectAdmin = async () => {
    adminConnected ??= admin.connect().catch((error) => {
      adminConnected = null;
      throw error;
    });
    await adminConnected;
  };
  /** Partitions whose committed offset kafkajs replaced with a placeholder after an out-of-range. */
  const outOfRange = new Set<number>();
  let generation = 0;
  let assigned = new Set<number>();
  /** Where each partition must start: the first batch is checked against it. */
  const expectedStart = new Map<number, string>();
  const committedNow = new Map<number, string>();

  consumer.on(consumer.events.GROUP_JOIN, (event) => {
    // Synchronous inside kafkajs's join: nothing of this generation was fetched yet.
    consumer.pause([{ topic }]);
    generation++;
    assigned = new Set(event.payload.memberAssignment[topic] ?? []);
    expectedStart.clear();
    options.onAssigned({
      generation,
      partitions: [...assigned].sort((a, b) => a - b),
      memberId: event.payload.memberId,
    });
  });
  consumer.on(consumer.events.COMMIT_OFFSETS, (event) => {
    const offsets = event.payload.topics
      .filter((t) => t.topic === topic)
      // kafkajs passes on what the committer gave it: strings, numbers or Longs.
      .flatMap((t) =>
        t.partitions.map((p) => ({ partition: Number(p.partition), offset: String(p.offset) }))
      );
    for (const o of offsets) committedNow.set(o.partition, o.offset);
    if (offsets.length > 0) options.onCommitted(offsets);
  });
  consumer.on(consumer.events.REBALANCING, () => options.onRebalancing?.());
  consumer.on(consumer.events.START_BATCH_PROCESS, (event) => {
    const { topic: batchTopic, partition, batchSize, lastOffset } = event.payload;
    // Only control records or aborted transactions follow the start position:
    // kafkajs moves past them without calling eachBatch, so the first batch
    // handed over starts later, legitimately.
    const expected = expectedStart.get(partition);
    if (batchTopic !== topic || batchSize !== 0 || expected === undefined) return;
    const next = BigInt(lastOffset) + 1n;
    if (next > BigInt(expected)) expectedStart.set(partition, String(next));
  });
  consumer.on(consumer.events.CRASH, (event) => {
    if (!event.payload.restart) options.onFatal(event.payload.error);
  });

  await consumer.connect();
  await consumer.subscribe({
    topics: [topic],
    fromBeginning: options.autoOffsetReset === "earliest",
  });
  // Not awaited: run() resolves only once the group join completes, which can
  // take a session timeout when a dead member is still registered. A stop in
  // the meantime must find a session to leave the group with, or this
  // member would linger as one more dead member. Join failures arrive
  // through the CRASH event.
  const running = consumer.run({
    autoCommit: options.autoCommit,
    partitionsConsumedConcurrently: options.concurrency,
    eachBatchAutoResolve: false,
    eachBatch: async (payload: EachBatchPayload) => {
      const { batch } = payload;
      const expected = expectedStart.get(batch.partition);
      if (expected !== undefined) {
        // kafkajs's Batch records the offset it fetched from (untyped in its .d.ts).
        const fetched = String((batch as unknown as { fetchedOffset: string }).fetchedOffset);
        if (fetched !== expected) {
          logger.warn("first fetch did not start at the start position; seeking again", {
            partition: batch.partition,
            fetched,
            expected,
          });
          consumer.seek({ topic, partition: batch.partition, offset: expected });
          return;
        }
        expectedStart.delete(batch.partition);
      }
      if (outOfRange.delete(batch.partition)) {
        const fetched = String((batch as unknown as { fetchedOffset: string }).fetchedOffset);
        await commitConfirmed([{ partition: batch.partition, offset: fetched }], null);
      }
      await options.onBatch({
        partition: batch.partition,
        highWatermark: batch.highWatermark,
        size: batch.messages.length,
        at: (i) => toMessage(topic, batch.partition, batch.messages[i]!),
        resolve: (offset) => payload.resolveOffset(offset),
        active: () => payload.isRunning() && !payload.isStale(),
        heartbeat: () => payload.heartbeat(),
      });
    },
  });
  running.catch((error) => options.onFatal(error));

  /** Commits through the group member; kafkajs skips commits silently until its runner runs, so confirm. */
  const commitConfirmed = async (offsets: PartitionOffset[], forGeneration: number | null) => {
    for (let attempt = 0;; attempt++) {
      if (forGeneration !== null && forGeneration !== generation) {
        throw new StaleAssignmentError(`assignment ${forGeneration} was replaced by ${generation}`);
      }
      await consumer.commitOffsets(
        offsets.map((o) => ({ topic, partition: o.partition, offset: o.offset })),
      );
      if (offsets.every((o) => committedNow.get(o.partition) === o.offset)) return;
      if (attempt > 200) throw new Error("kafkajs did not commit the start positions");
      await new Promise((r) => setTimeout(r, 50));
    }
  };

  return {
    async describe(partitions) {
      await connectAdmin();
      return await describePartitions(admin, options.group, topic, partitions);
    },
    async begin(forGeneration, positions) {
      if (positions.length === 0) return;
      await commitConfirmed(positions, forGeneration);
      if (forGeneration !== generation) {
        throw new StaleAssignmentError(`assignment ${forGeneration} was replaced by ${generation}`);
      }
      for (const { partition, offset } of positions) {
        expectedStart.set(partition, offset);
        consumer.seek({ topic, partition, offset });
      }
      consumer.resume([{ topic, partitions: positions.map((p) => p.partition) }]);
    },
    async commit(offsets) {
      if (offsets.length === 0) return;
      await consumer.commitOffsets(
        offsets.map((o) => ({ topic, partition: o.partition, offset: o.offset })),
      );
      // kafkajs drops a commit silently while its runner is stopped or the
      // partition is not assigned: report it instead of claiming success.
      if (!offsets.every((o) => committedNow.get(o.partition) === o.offset)) {
        throw new Error(
          `offsets of partitions ${offsets.map((o) => o.partition).join(", ")} were not ` +
            "committed: the consumer is not running or no longer holds them",
        );
      }
    },
    pause(partitions) {
      consumer.pause([{ topic, partitions }]);
    },
    resume(partitions) {
      // Throws while kafkajs restarts its consumer group: the caller retries.
      consumer.resume([{ topic, partitions: partitions.filter((p) => assigned.has(p)) }]);
    },
    async stop() {
      await consumer.disconnect();
      if (adminConnected) await admin.disconnect();
    },
  };
}

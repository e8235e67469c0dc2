/**
 * Where a worker's records go on the platformatic engine, for both of its
 * producers (at-least-once and exactly-once): each record as the library
 * sends it, given an explicit partition (Kafka's partitioner for keyed
 * records, in turn for keyless ones), checked against what the broker
 * would refuse, and cut into requests the broker takes.
 *
 * The partition is always chosen here: the library would otherwise take a
 * partition the topic does not have modulo the partition count, and write
 * the record somewhere its handler did not ask for.
 *
 * @module
 */
import { Buffer } from "node:buffer";
import type { MessageToProduce, Producer } from "@platformatic/kafka";
import { type ProduceRecord, type RecordBytes, recordBytes } from "../../produce_record.ts";
import { MAX_RECORD_BYTES, partitionRequests } from "../request_bytes.ts";
import { missingPartition } from "../missing_partition.ts";
import type { Platformatic } from "./library.ts";
import { fillGonePartitions, type TopicsMetadata } from "./gone_partitions.ts";
import { PartitionCounts } from "./partition_counts.ts";

type Raw = Buffer;
/** The library's producer of raw Buffers (no serialisation). */
export type RawProducer = Producer<Raw, Raw, Raw, Raw>;
/** A record as the library's producer takes it. */
export type RawMessage = MessageToProduce<Raw, Raw, Raw, Raw>;

/**
 * About the most bytes a record's framing takes in a record batch (length,
 * attributes, timestamp and offset deltas, key and value lengths, header
 * count; varints): counted with each record, so that a request of many
 * small records stays under the broker's limit too.
 */
const RECORD_FRAMING_BYTES = 24;

/** A record routed to its partition, with its size, ready for a request. */
export interface RoutedRecord {
  topic: string;
  partition: number;
  bytes: number;
  message: RawMessage;
}

function toBuffer(bytes: RecordBytes): Buffer {
  if (typeof bytes === "string") return Buffer.from(bytes);
  return bytes instanceof Buffer
    ? bytes
    : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/**
 * A record as the library sends it; a repeated header is one entry per
 * value, in order. Keyless, headerless records carry neither field.
 */
export function libraryMessage(record: ProduceRecord & { timestamp?: string }): RawMessage {
  const message = { topic: record.topic } as RawMessage;
  if (record.key !== undefined && record.key !== null) message.key = toBuffer(record.key);
  if (record.value !== null) message.value = toBuffer(record.value);
  if (record.headers !== undefined) {
    const headers = new Map<Buffer, Buffer>();
    for (const [name, value] of Object.entries(record.headers)) {
      // Distinct key objects: the library writes every entry.
      for (const v of Array.isArray(value) ? value : value === undefined ? [] : [value]) {
        headers.set(Buffer.from(name), toBuffer(v));
      }
    }
    message.headers = headers;
  }
  if (record.partition !== undefined) message.partition = record.partition;
  if (record.timestamp !== undefined) message.timestamp = BigInt(record.timestamp);
  return message;
}

/** Routes records of one producer: partitions, checks and requests. */
export class RecordRouter {
  readonly #producer: RawProducer;
  readonly #library: Platformatic;
  /** The next partition of a keyless record, in turn. */
  #next = 0;
  /** Partition counts as last read, each trusted a few seconds. */
  readonly #known: PartitionCounts;
  /** The highest partition of each topic records were routed to. */
  readonly #highest = new Map<string, number>();

  /**
   * `known` holds the partition counts last read; a producer that outlives
   * its router (replaced after a failure) passes its own, to keep them.
   */
  constructor(
    producer: RawProducer,
    library: Platformatic,
    known: PartitionCounts = new PartitionCounts(),
  ) {
    this.#producer = producer;
    this.#library = library;
    this.#known = known;
    // Synchronous, before the library reads the partitions it just fetched.
    producer.on(
      "client:metadata",
      (metadata: TopicsMetadata) => fillGonePartitions(metadata, this.#highest),
    );
  }

  /**
   * How many partitions `topic` has: the library's metadata, cached a few
   * seconds, or, `fresh`, read now and tried once (a missing topic then
   * fails in one round trip, not after the library's retries).
   */
  async partitionCount(
    topic: string,
    { fresh = false }: { fresh?: boolean } = {},
  ): Promise<number> {
    try {
      const metadata = await this.#producer.metadata({
        topics: [topic],
        ...(fresh ? { forceUpdate: true, retries: 0 } : {}),
      });
      const found = metadata.topics.get(topic);
      if (found === undefined) throw new Error(`Unknown topic ${topic}`);
      this.#known.set(topic, found.partitionsCount);
      return found.partitionsCount;
    } catch (error) {
      // Not known any more: the next record of the topic reads it again.
      this.#known.delete(topic);
      throw error;
    }
  }

  /**
   * How many partitions each of `topics` has, or why records cannot go to
   * it (its metadata cannot be read: most often, it does not exist).
   */
  async partitionCounts(
    topics: Iterable<string>,
    options: { fresh?: boolean } = {},
  ): Promise<Map<string, number | Error>> {
    const counts = new Map<string, number | Error>();
    for (const topic of topics) {
      try {
        counts.set(topic, await this.partitionCount(topic, options));
      } catch (error) {
        counts.set(
          topic,
          new Error(
            `Cannot produce to topic ${
              JSON.stringify(topic)
            }: its metadata cannot be read (does the topic exist?): ${
              error instanceof Error ? error.message : String(error)
            }`,
            { cause: error },
          ),
        );
      }
    }
    return counts;
  }

  /**
   * Why the broker would refuse `record`, or null when it can go: a record
   * larger than {@linkcode MAX_RECORD_BYTES} (checked only when `under`
   * names the setting that needs it: a transaction fails whole on it), a
   * topic that does not exist, a partition the topic does not have.
   */
  async check(record: ProduceRecord, under?: string): Promise<Error | null> {
    const size = sizeRefusal(record, under);
    if (size !== null) return size;
    // Asked when the counts last read cannot tell: read them now.
    const count = (await this.partitionCounts([record.topic], { fresh: true })).get(record.topic)!;
    return refusal(record, count);
  }

  /**
   * {@linkcode RecordRouter.check} without a request, when the counts last
   * read decide it: null when `record` can go (its partition is within the
   * count read in the last few seconds), an Error when it is too large;
   * undefined when only fresh metadata can tell (a topic not read lately, a
   * partition beyond the count last read).
   */
  knownCheck(record: ProduceRecord, under?: string): Error | null | undefined {
    const size = sizeRefusal(record, under);
    if (size !== null) return size;
    const count = this.#known.get(record.topic);
    if (count === undefined) return undefined;
    return record.partition === undefined || record.partition < count ? null : undefined;
  }

  /**
   * `record` as the library sends it (`message`, when already made), given
   * its partition among `count`; its size counts the record's framing too.
   */
  route(
    record: ProduceRecord & { timestamp?: string },
    count: number,
    message: RawMessage = libraryMessage(record),
  ): RoutedRecord {
    const partition = message.partition ??
      (message.key === undefined
          ? this.#next++ & 0x7fffffff
          : this.#library.compatibilityPartitioner(message, message.key)) % count;
    message.partition = partition;
    if (partition > (this.#highest.get(record.topic) ?? -1)) {
      this.#highest.set(record.topic, partition);
    }
    const bytes = recordBytes(record) + RECORD_FRAMING_BYTES;
    return { topic: record.topic, partition, bytes, message };
  }

  /**
   * Rejects when a record of `request` is for a partition beyond the count
   * the library will route it by (its metadata as cached now): it would
   * write it to partition p mod n. A topic made again with fewer partitions
   * comes to this (a resend by the library after it found its metadata
   * stale goes by the metadata read then: see gone_partitions.ts).
   */
  async checkRequest(request: readonly RoutedRecord[]): Promise<void> {
    for (const topic of new Set(request.map((r) => r.topic))) {
      const count = await this.partitionCount(topic);
      const beyond = request.find((r) => r.topic === topic && r.partition >= count);
      if (beyond !== undefined) throw missingPartition(topic, beyond.partition);
    }
  }

  /**
   * `records` routed, cut into requests of at most 512 KiB per partition
   * (request_bytes.ts; the library writes one batch per partition and
   * request), in order.
   */
  async requests(records: readonly ProduceRecord[]): Promise<RoutedRecord[][]> {
    const counts = new Map<string, number>();
    for (const topic of new Set(records.map((r) => r.topic))) {
      counts.set(topic, await this.partitionCount(topic));
    }
    return partitionRequests(
      records.map((record) => this.route(record, counts.get(record.topic)!)),
    );
  }
}

/**
 * Why `record` cannot go to its topic of `count` partitions (or the error
 * that reading the topic's partitions gave), or null when it can.
 */
export function refusal(record: ProduceRecord, count: number | Error): Error | null {
  if (count instanceof Error) return count;
  if (record.partition !== undefined && record.partition >= count) {
    return missingPartition(record.topic, record.partition);
  }
  return null;
}

/**
 * Why `record` is too large to go under `under` (a setting whose requests
 * fail whole on one refused record, e.g. "delivery: exactly-once"), or null;
 * without `under`, never (the broker refuses it alone).
 */
function sizeRefusal(record: ProduceRecord, under?: string): Error | null {
  if (under === undefined) return null;
  const bytes = recordBytes(record);
  if (bytes <= MAX_RECORD_BYTES) return null;
  return new RangeError(
    `Cannot produce to topic ${
      JSON.stringify(record.topic)
    } a record of ${bytes} bytes (key, value and headers) ` +
      `under ${under}: the most one record may carry is ${MAX_RECORD_BYTES} ` +
      "bytes (the broker's default message.max.bytes, less the batch around it)",
  );
}

/**
 * Kafka's Fetch response (versions 12 to 17, the flexible ones) parsed from
 * its bytes into the shape @platformatic/kafka's own parser gives, except
 * for the records: each partition's record batches are
 * {@linkcode RecordBatch}es, whose records are read when the worker reads
 * them instead of into an object per record as the response arrives.
 *
 * The library's consumer still builds the request, keeps the fetch session
 * and reads the partition errors; client.ts hands it this parser for the
 * Fetches on the engine's own connections.
 *
 * @module
 */
import type { Buffer } from "node:buffer";
import { batchEnd, type Decompress, readBatch, type RecordBatch } from "./record_batch.ts";

/** The oldest Fetch version parsed here: the first flexible one (Kafka 2.7). */
export const FIRST_FLEXIBLE_FETCH = 12;
/** The newest Fetch version parsed here. */
export const LAST_FETCH = 17;
/** Fetch versions from this one name topics by id instead of by name. */
const TOPIC_IDS_FROM = 13;

/** An aborted transaction a partition's records may hold. */
export interface AbortedTransaction {
  producerId: bigint;
  firstOffset: bigint;
}

/** One partition of a Fetch response. */
export interface FetchedPartition {
  partitionIndex: number;
  errorCode: number;
  highWatermark: bigint;
  lastStableOffset: bigint;
  logStartOffset: bigint;
  divergingEpoch: { epoch: number; endOffset: bigint };
  currentLeader: { leaderId: number; leaderEpoch: number };
  snapshotId: { endOffset: bigint; epoch: number };
  /**
   * The aborted transactions the records may hold (null when the broker sent
   * none): the engine drops their records itself (records.ts), whether or not
   * their markers came in the same response.
   */
  aborted: AbortedTransaction[] | null;
  /**
   * Always null. The library's consumer filters a response's batches by this
   * field, reading each control batch's first record as it returns: left
   * null, it leaves the batches as they are.
   */
  abortedTransactions: null;
  preferredReadReplica: number;
  /** The whole record batches, or null when the partition returned no records. */
  records: RecordBatch[] | null;
}

/** A Fetch response. */
export interface FetchResponse {
  throttleTimeMs: number;
  errorCode: number;
  sessionId: number;
  /** Per topic: its id (its name before version 13) and partitions. */
  responses: Array<{ topicId: string; partitions: FetchedPartition[] }>;
  nodeEndpoints: Array<{ nodeId: number; host: string; port: number; rack: string | null }>;
}

/** A parsed response and its errors, keyed as the library keys them: `""` for the response's own. */
export interface ParsedFetch {
  response: FetchResponse;
  errors: Array<[string, number]>;
}

/**
 * Parses a Fetch response body (after its header) of `version`.
 *
 * @throws {RangeError} When the version is not 12–17, or the bytes end early.
 * @throws {CorruptBatchError} When a record batch is not message format v2.
 */
export function parseFetchResponse(
  body: Buffer,
  version: number,
  decompress: Decompress,
): ParsedFetch {
  if (version < FIRST_FLEXIBLE_FETCH || version > LAST_FETCH) {
    throw new RangeError(
      `Fetch v${version} is not read by the platformatic engine (v${FIRST_FLEXIBLE_FETCH}–v${LAST_FETCH}: Kafka 2.7 or newer)`,
    );
  }
  const r = new ResponseReader(body);
  const errors: Array<[string, number]> = [];
  const throttleTimeMs = r.int32();
  const errorCode = r.int16();
  if (errorCode !== 0) errors.push(["", errorCode]);
  const sessionId = r.int32();
  const responses: FetchResponse["responses"] = [];
  const topics = r.arrayLength();
  for (let t = 0; t < topics; t++) {
    const topicId = version >= TOPIC_IDS_FROM ? r.uuid() : r.string();
    const partitions: FetchedPartition[] = [];
    const count = r.arrayLength();
    for (let p = 0; p < count; p++) {
      const partition = readPartition(r, decompress);
      if (partition.errorCode !== 0) {
        errors.push([`/responses/${t}/partitions/${p}`, partition.errorCode]);
      }
      partitions.push(partition);
    }
    r.skipTaggedFields();
    responses.push({ topicId, partitions });
  }
  const response: FetchResponse = {
    throttleTimeMs,
    errorCode,
    sessionId,
    responses,
    nodeEndpoints: [],
  };
  r.taggedFields((tag) => {
    if (tag !== 0) return false;
    const endpoints = r.arrayLength();
    for (let i = 0; i < endpoints; i++) {
      response.nodeEndpoints.push({
        nodeId: r.int32(),
        host: r.string(),
        port: r.int32(),
        rack: r.nullableString(),
      });
      r.skipTaggedFields();
    }
    return true;
  });
  return { response, errors };
}

function readPartition(r: ResponseReader, decompress: Decompress): FetchedPartition {
  const partition: FetchedPartition = {
    partitionIndex: r.int32(),
    errorCode: r.int16(),
    highWatermark: r.int64(),
    lastStableOffset: r.int64(),
    logStartOffset: r.int64(),
    divergingEpoch: { epoch: -1, endOffset: -1n },
    currentLeader: { leaderId: -1, leaderEpoch: -1 },
    snapshotId: { endOffset: -1n, epoch: -1 },
    aborted: null,
    abortedTransactions: null,
    preferredReadReplica: -1,
    records: null,
  };
  const aborted = r.arrayLength();
  if (aborted >= 0) {
    partition.aborted = [];
    for (let i = 0; i < aborted; i++) {
      partition.aborted.push({ producerId: r.int64(), firstOffset: r.int64() });
      r.skipTaggedFields();
    }
  }
  partition.preferredReadReplica = r.int32();
  // COMPACT_RECORDS: length + 1, 0 for null.
  const size = r.unsignedVarint() - 1;
  if (size > 0) partition.records = readBatches(r.take(size), decompress);
  r.taggedFields((tag) => {
    if (tag === 0) partition.divergingEpoch = { epoch: r.int32(), endOffset: r.int64() };
    else if (tag === 1) partition.currentLeader = { leaderId: r.int32(), leaderEpoch: r.int32() };
    else if (tag === 2) partition.snapshotId = { endOffset: r.int64(), epoch: r.int32() };
    else return false;
    return true;
  });
  return partition;
}

/** The whole batches of a partition's records; a batch the response cut short is left out. */
export function readBatches(data: Buffer, decompress: Decompress): RecordBatch[] {
  const batches: RecordBatch[] = [];
  let start = 0;
  for (let end = batchEnd(data, start); end !== -1; end = batchEnd(data, start)) {
    batches.push(readBatch(data.subarray(start, end), decompress));
    start = end;
  }
  return batches;
}

/** Reads the fixed-size and compact fields of a response, failing at its end. */
class ResponseReader {
  #at = 0;
  readonly #view: DataView;

  constructor(readonly data: Buffer) {
    this.#view = new DataView(data.buffer, data.byteOffset, data.length);
  }

  #advance(n: number): number {
    const at = this.#at;
    if (n < 0 || at + n > this.data.length) {
      throw new RangeError(
        `The Fetch response ends at byte ${this.data.length}; a field needs ${at + n}`,
      );
    }
    this.#at = at + n;
    return at;
  }

  int16(): number {
    return this.#view.getInt16(this.#advance(2));
  }

  int32(): number {
    return this.#view.getInt32(this.#advance(4));
  }

  int64(): bigint {
    return this.#view.getBigInt64(this.#advance(8));
  }

  unsignedVarint(): number {
    let value = 0;
    for (let shift = 0; shift <= 28; shift += 7) {
      const byte = this.data[this.#advance(1)]!;
      value += (byte & 0x7f) * 2 ** shift;
      if (byte < 0x80) return value;
    }
    throw new RangeError(`The Fetch response has a varint longer than 5 bytes at byte ${this.#at}`);
  }

  /** A compact array's length: -1 for null. */
  arrayLength(): number {
    return this.unsignedVarint() - 1;
  }

  take(n: number): Buffer {
    const at = this.#advance(n);
    return this.data.subarray(at, at + n);
  }

  /** A UUID, hyphenated as the library's metadata names topic ids. */
  uuid(): string {
    const hex = this.data.toString("hex", this.#advance(16), this.#at);
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${
      hex.slice(20)
    }`;
  }

  nullableString(): string | null {
    const length = this.unsignedVarint() - 1;
    if (length < 0) return null;
    return this.data.toString("utf8", this.#advance(length), this.#at);
  }

  string(): string {
    return this.nullableString() ?? "";
  }

  /**
   * Reads tagged fields: `read(tag)` reads the leading fields of a known one
   * and says so; what follows them (a struct's own tagged fields, fields of
   * newer versions) and unknown tags are skipped.
   */
  taggedFields(read: (tag: number) => boolean): void {
    const count = this.unsignedVarint();
    for (let i = 0; i < count; i++) {
      const tag = this.unsignedVarint();
      const size = this.unsignedVarint();
      const start = this.#at;
      const end = this.#advance(size) + size;
      this.#at = start;
      if (read(tag) && this.#at > end) {
        throw new RangeError(`The Fetch response's tagged field ${tag} runs past its size ${size}`);
      }
      this.#at = end;
    }
  }

  skipTaggedFields(): void {
    this.taggedFields(() => false);
  }
}

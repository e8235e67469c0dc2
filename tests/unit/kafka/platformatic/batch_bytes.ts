/**
 * Encodes Kafka record batches (message format v2) from a description, with
 * the fields a producer would not write (offset deltas out of order,
 * offsets past 2^53): the input of the record-batch decoder's tests. Its
 * output is checked against @platformatic/kafka's own decoder
 * (record_batch_test.ts).
 *
 * @module
 */
import { Buffer } from "node:buffer";

/** One record of a batch. */
export interface RecordSpec {
  offsetDelta: number;
  timestampDelta?: bigint;
  key?: Uint8Array | null;
  value: Uint8Array | null;
  headers?: Array<[Uint8Array | null, Uint8Array | null]>;
}

/** A batch: its header fields (defaults as a plain producer writes them) and records. */
export interface BatchSpec {
  firstOffset: bigint;
  attributes?: number;
  producerId?: bigint;
  firstTimestamp?: bigint;
  maxTimestamp?: bigint;
  /** Defaults to the largest offset delta. */
  lastOffsetDelta?: number;
  /** Defaults to the number of records. */
  count?: number;
  records: RecordSpec[];
}

/** An unsigned varint (LEB128) of `value`. */
export function unsignedVarint(value: number | bigint): number[] {
  let v = BigInt(value);
  const bytes: number[] = [];
  do {
    const byte = Number(v & 0x7fn);
    v >>= 7n;
    bytes.push(v > 0n ? byte | 0x80 : byte);
  } while (v > 0n);
  return bytes;
}

/** A zigzag varint of `value` (a varlong when a bigint). */
export function zigzag(value: number | bigint): number[] {
  const v = BigInt(value);
  return unsignedVarint(v >= 0n ? v << 1n : ((-v) << 1n) - 1n);
}

function bytesField(value: Uint8Array | null | undefined): number[] {
  if (value === null || value === undefined) return zigzag(-1);
  return [...zigzag(value.length), ...value];
}

/** The bytes of one record, with its length prefix. */
export function encodeRecord(record: RecordSpec): number[] {
  const body = [
    0, // attributes
    ...zigzag(record.timestampDelta ?? 0n),
    ...zigzag(record.offsetDelta),
    ...bytesField(record.key),
    ...bytesField(record.value),
    ...zigzag(record.headers?.length ?? 0),
    ...(record.headers ?? []).flatMap((
      [name, value],
    ) => [...bytesField(name), ...bytesField(value)]),
  ];
  return [...zigzag(body.length), ...body];
}

/** The bytes of a batch whose records section is `section` (already compressed when the attributes say so). */
export function encodeBatchWith(spec: BatchSpec, section: Uint8Array): Buffer {
  const header = Buffer.alloc(61);
  header.writeBigInt64BE(spec.firstOffset, 0);
  header.writeInt32BE(61 - 12 + section.length, 8);
  header.writeInt32BE(0, 12); // partition leader epoch
  header.writeInt8(2, 16); // magic
  header.writeUInt32BE(0, 17); // crc: not checked when reading
  header.writeInt16BE(spec.attributes ?? 0, 21);
  header.writeInt32BE(
    spec.lastOffsetDelta ?? Math.max(0, ...spec.records.map((r) => r.offsetDelta)),
    23,
  );
  header.writeBigInt64BE(spec.firstTimestamp ?? 1000n, 27);
  header.writeBigInt64BE(spec.maxTimestamp ?? 2000n, 35);
  header.writeBigInt64BE(spec.producerId ?? -1n, 43);
  header.writeInt16BE(0, 51);
  header.writeInt32BE(0, 53);
  header.writeInt32BE(spec.count ?? spec.records.length, 57);
  return Buffer.concat([header, section]);
}

/** The records section of `spec`, uncompressed. */
export function recordsSection(spec: BatchSpec): Buffer {
  return Buffer.from(spec.records.flatMap(encodeRecord));
}

/** The bytes of an uncompressed batch. */
export function encodeBatch(spec: BatchSpec): Buffer {
  return encodeBatchWith(spec, recordsSection(spec));
}

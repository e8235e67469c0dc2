/**
 * One partition of a @platformatic/kafka Fetch response, turned into what
 * the worker reads: the records at or after the fetch offset, without
 * control batches, built into handler messages on demand.
 *
 * @module
 */
import { type Message, recordOf } from "../../message.ts";
import type { FetchedPartition } from "./client.ts";

type RecordsBatch = NonNullable<FetchedPartition["records"]>[number];
type KafkaRecord = RecordsBatch["records"][number];

/** A batch written inside a transaction. */
const IS_TRANSACTIONAL = 0x10;
/** A transaction's commit or abort marker: never a message. */
const IS_CONTROL = 0x20;
/** Below this, a 64-bit offset or timestamp plus a record's delta is exact as a number. */
const MAX_EXACT = BigInt(Number.MAX_SAFE_INTEGER) - (1n << 32n);

/** The batch's timestamps are the broker's append time (its max timestamp). */
const LOG_APPEND_TIME = 0x08;

/** The messages of one partition of one fetch. */
export interface PartitionRecords {
  partition: number;
  highWatermark: string;
  /** How many messages (records of data batches at or after the fetch offset). */
  size: number;
  /** Offset of message `index`. */
  offsetAt(index: number): string;
  /** Message `index`, built now. */
  messageAt(topic: string, index: number): Message;
  /** The last offset the fetch covered, control records included; null when it returned nothing. */
  lastOffset: string | null;
}

/**
 * Selects the messages of `data` at or after `fetchOffset`: control batches
 * and batches of aborted transactions are skipped (read committed), whether
 * or not the abort marker came in the same response.
 */
export function partitionRecords(data: FetchedPartition, fetchOffset: bigint): PartitionRecords {
  const records: KafkaRecord[] = [];
  const batches: RecordsBatch[] = [];
  let last: bigint | null = null;
  const pendingAborts = [...(data.abortedTransactions ?? [])]
    .sort((a, b) => a.firstOffset < b.firstOffset ? -1 : a.firstOffset > b.firstOffset ? 1 : 0);
  const aborting = new Set<bigint>();
  for (const batch of data.records ?? []) {
    const end = batch.firstOffset + BigInt(batch.lastOffsetDelta);
    if (last === null || end > last) last = end;
    while (pendingAborts.length > 0 && pendingAborts[0]!.firstOffset <= end) {
      aborting.add(pendingAborts.shift()!.producerId);
    }
    if ((batch.attributes & IS_CONTROL) !== 0) {
      // An abort marker (control type 0) ends that producer's aborted transaction.
      if (batch.records[0]?.key?.readInt16BE(2) === 0) aborting.delete(batch.producerId);
      continue;
    }
    if ((batch.attributes & IS_TRANSACTIONAL) !== 0 && aborting.has(batch.producerId)) continue;
    // Records below the fetch offset: those whose delta is under this (one BigInt step per batch).
    const skip = batch.firstOffset >= fetchOffset ? 0 : Number(fetchOffset - batch.firstOffset);
    for (const record of batch.records) {
      if (record.offsetDelta < skip) continue;
      records.push(record);
      batches.push(batch);
    }
  }
  // Offsets and timestamps as numbers while they are exact (always, short of 2^53): BigInt
  // arithmetic per message cost more than the rest of building it.
  const offsetAt = (i: number) => {
    const { firstOffset } = batches[i]!;
    const delta = records[i]!.offsetDelta;
    return firstOffset <= MAX_EXACT
      ? String(Number(firstOffset) + delta)
      : String(firstOffset + BigInt(delta));
  };
  return {
    partition: data.partitionIndex,
    highWatermark: String(data.highWatermark),
    size: records.length,
    offsetAt,
    messageAt(topic, i) {
      const record = records[i]!;
      const batch = batches[i]!;
      const timestamp = (batch.attributes & LOG_APPEND_TIME) !== 0
        ? batch.maxTimestamp
        : batch.firstTimestamp <= MAX_EXACT && record.timestampDelta <= MAX_EXACT
        ? Number(batch.firstTimestamp) + Number(record.timestampDelta)
        : batch.firstTimestamp + record.timestampDelta;
      return recordOf(
        topic,
        data.partitionIndex,
        offsetAt(i),
        record.key,
        record.value,
        headersOf(record.headers),
        String(timestamp),
      );
    },
    lastOffset: last === null ? null : String(last),
  };
}

/** Record headers as handlers see them: a repeated header becomes a list, in order. */
export function headersOf(headers: KafkaRecord["headers"]): Message["headers"] {
  const result: Message["headers"] = {};
  for (const [rawKey, value] of headers) {
    if (rawKey === null) continue;
    const key = rawKey.toString();
    const present = result[key];
    if (value === null) {
      if (!(key in result)) result[key] = undefined;
    } else if (present === undefined) result[key] = value;
    else if (Array.isArray(present)) present.push(value);
    else result[key] = [present, value];
  }
  return result;
}

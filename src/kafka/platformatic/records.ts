/**
 * One partition of a @platformatic/kafka Fetch response, turned into what
 * the worker reads: the records at or after the fetch offset, without
 * control batches, built into handler messages on demand.
 *
 * @module
 */
import { type Message, recordOf } from "../../message.ts";
import type { FetchedPartition } from "./fetch_response.ts";
import { IS_CONTROL, IS_TRANSACTIONAL, LOG_APPEND_TIME, type RecordBatch } from "./record_batch.ts";

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

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
 * The messages one record batch contributes.
 * Offsets and timestamps are computed as numbers from bases converted once
 * per batch while they are exact (always, short of 2^53): BigInt arithmetic
 * per message cost more than the rest of building it.
 */
interface Run {
  batch: RecordBatch;
  /** Index of the run's first message among the partition's messages. */
  start: number;
  /** The batch's indexes of the run's records when some are below the fetch offset; null for all of them. */
  picks: number[] | null;
  /** `batch.firstOffset` as a number when every offset of the batch is a safe integer, else null. */
  offsetBase: number | null;
  /** `batch.firstTimestamp` as a number when it is a safe integer, else null. */
  timestampBase: number | null;
  /** The broker's append time, for every record of a log-append-time batch; else null. */
  appendTime: string | null;
}

function runOf(batch: RecordBatch, start: number, picks: number[] | null): Run {
  const lastOffset = batch.firstOffset + BigInt(batch.lastOffsetDelta);
  return {
    batch,
    start,
    picks,
    offsetBase: batch.firstOffset >= 0n && lastOffset <= MAX_SAFE
      ? Number(batch.firstOffset)
      : null,
    timestampBase: batch.firstTimestamp >= -MAX_SAFE && batch.firstTimestamp <= MAX_SAFE
      ? Number(batch.firstTimestamp)
      : null,
    appendTime: (batch.attributes & LOG_APPEND_TIME) !== 0 ? String(batch.maxTimestamp) : null,
  };
}

/** Record `r` of the run's batch: its offset. */
function offsetOf(run: Run, r: number): string {
  const delta = run.batch.offsetDelta(r);
  return run.offsetBase !== null
    ? String(run.offsetBase + delta)
    : String(run.batch.firstOffset + BigInt(delta));
}

function timestampOf(run: Run, r: number): string {
  if (run.appendTime !== null) return run.appendTime;
  if (run.timestampBase !== null) {
    // Exact when both parts and the sum are safe integers.
    const delta = run.batch.timestampDelta(r);
    if (delta !== null) {
      const timestamp = run.timestampBase + delta;
      if (Number.isSafeInteger(timestamp)) return String(timestamp);
    }
  }
  return String(run.batch.firstTimestamp + run.batch.timestampDeltaBig(r));
}

/**
 * The batch's indexes of its records at or after `fetchOffset`, or null
 * when that is all of them: one BigInt step per batch, and a list only for
 * the batch the fetch offset falls in.
 */
function picksOf(batch: RecordBatch, fetchOffset: bigint): number[] | null {
  if (batch.firstOffset >= fetchOffset) return null;
  const skip = Number(fetchOffset - batch.firstOffset);
  const picks: number[] = [];
  for (let r = 0; r < batch.size; r++) if (batch.offsetDelta(r) >= skip) picks.push(r);
  return picks;
}

/**
 * Selects the messages of `data` at or after `fetchOffset`: control batches
 * and batches of aborted transactions are skipped (read committed), whether
 * or not the abort marker came in the same response.
 */
export function partitionRecords(data: FetchedPartition, fetchOffset: bigint): PartitionRecords {
  const runs: Run[] = [];
  let size = 0;
  let last: bigint | null = null;
  const pendingAborts = [...(data.aborted ?? [])]
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
      if (batch.size > 0 && batch.key(0)?.readInt16BE(2) === 0) aborting.delete(batch.producerId);
      continue;
    }
    if ((batch.attributes & IS_TRANSACTIONAL) !== 0 && aborting.has(batch.producerId)) continue;
    // Records below the fetch offset are skipped: only in the batch the fetch offset falls in.
    const picks = picksOf(batch, fetchOffset);
    const count = picks === null ? batch.size : picks.length;
    if (count === 0) continue;
    runs.push(runOf(batch, size, picks));
    size += count;
  }
  // The run of the last message asked for: messages are asked for in order.
  let current = 0;
  const find = (i: number): Run => {
    if (i < 0 || i >= size) throw new RangeError(`No message ${i} in a batch of ${size}`);
    if (runs[current]!.start > i) current = 0;
    while (current + 1 < runs.length && runs[current + 1]!.start <= i) current++;
    return runs[current]!;
  };
  const recordAt = (run: Run, i: number) =>
    run.picks === null ? i - run.start : run.picks[i - run.start]!;
  return {
    partition: data.partitionIndex,
    highWatermark: String(data.highWatermark),
    size,
    offsetAt(i) {
      const run = find(i);
      return offsetOf(run, recordAt(run, i));
    },
    messageAt(topic, i) {
      const run = find(i);
      const r = recordAt(run, i);
      const { batch } = run;
      return recordOf(
        topic,
        data.partitionIndex,
        offsetOf(run, r),
        batch.key(r),
        batch.value(r),
        headersAt(batch, r),
        timestampOf(run, r),
      );
    },
    lastOffset: last === null ? null : String(last),
  };
}

/**
 * Record `r`'s headers as handlers see them: a repeated header becomes a
 * list, in order. Names are own properties whatever they are: a header named
 * `constructor` or `__proto__` is one like any other.
 */
function headersAt(batch: RecordBatch, r: number): Message["headers"] {
  const result: Message["headers"] = {};
  if (batch.headerCount(r) === 0) return result;
  batch.eachHeader(r, (name, value) => {
    if (name === null) return;
    const present = Object.hasOwn(result, name);
    const current = present ? result[name] : undefined;
    if (value === null) {
      if (!present) setHeader(result, name, undefined);
    } else if (current === undefined) setHeader(result, name, value);
    else if (Array.isArray(current)) current.push(value);
    else setHeader(result, name, [current, value]);
  });
  return result;
}

function setHeader(headers: Message["headers"], name: string, value: Message["headers"][string]) {
  // Assigning `__proto__` would set the object's prototype (on runtimes that keep the accessor).
  if (name === "__proto__") {
    Object.defineProperty(headers, name, {
      value,
      writable: true,
      enumerable: true,
      configurable: true,
    });
  } else headers[name] = value;
}

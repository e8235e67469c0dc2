/**
 * `delivery: exactly-once`: what the handler calls produced, kept in the
 * worker until the commit that finishes their messages sends them in its
 * transaction. Each call that succeeded adds its records under the offset
 * of the last message it finished; a commit takes the records of every
 * message it marks finished — below its offsets, and (`ordering: key` and
 * `none`) the finished offsets beyond them that its metadata lists — so one
 * transaction carries exactly the outputs of the inputs it commits (and a
 * call that failed added nothing).
 *
 * @module
 */
import type { ProduceRecord } from "../produce_record.ts";
import type { PartitionOffset } from "../kafka/session.ts";
import { decodeCommitMetadata } from "../offsets/commit_metadata.ts";
import { recordBytes } from "../produce_record.ts";

/**
 * The most bytes (keys, values and headers) of records that may wait for
 * their commit under `commit.mode: manual`, where nothing commits until the
 * handler calls `ctx.commit()`: a produce that would pass it fails.
 */
export const MAX_WAITING_BYTES = 64 * 1024 * 1024;

interface Finished {
  offset: bigint;
  records: ProduceRecord[];
  /** The records' bytes (see `recordBytes()`). */
  bytes: number;
}

/**
 * Records waiting for their commit, per input partition, in the order their
 * calls ended.
 *
 * @example
 * ```ts
 * const buffer = new TransactionBuffer();
 * buffer.add(0, "41", [{ topic: "out", value: "a" }]);
 * buffer.take([{ partition: 0, offset: "42" }]); // [{ topic: "out", value: "a" }]
 * ```
 */
export class TransactionBuffer {
  readonly #partitions = new Map<number, Finished[]>();
  /** Per partition, how many times what waited for it was dropped (see `epoch()`). */
  readonly #epochs = new Map<number, number>();
  #count = 0;
  #bytes = 0;

  /** How many records wait. */
  get size(): number {
    return this.#count;
  }

  /** How many bytes (keys, values and headers) the records that wait carry. */
  get bytes(): number {
    return this.#bytes;
  }

  /**
   * The partition's reading: it moves each time what waits for it is
   * dropped (given back, reset, lost). A call that began under an older one
   * finished a message its partition's next reading handles again.
   */
  epoch(partition: number): number {
    return this.#epochs.get(partition) ?? 0;
  }

  /**
   * `records` were produced by calls that finished every message of
   * `partition` up to `offset`, begun under the partition's `epoch` (when
   * given): a call begun before the partition was dropped adds nothing.
   */
  add(partition: number, offset: string, records: readonly ProduceRecord[], epoch?: number): void {
    if (records.length === 0) return;
    if (epoch !== undefined && epoch !== this.epoch(partition)) return;
    let list = this.#partitions.get(partition);
    if (list === undefined) this.#partitions.set(partition, list = []);
    const bytes = records.reduce((sum, record) => sum + recordBytes(record), 0);
    list.push({ offset: BigInt(offset), records: [...records], bytes });
    this.#count += records.length;
    this.#bytes += bytes;
  }

  /**
   * Removes and returns the records of the messages a commit of `offsets`
   * marks finished: below each offset (Kafka's next offset), and those its
   * metadata lists as finished beyond it (a next run skips them).
   */
  take(offsets: readonly PartitionOffset[]): ProduceRecord[] {
    const taken: ProduceRecord[] = [];
    for (const { partition, offset, metadata } of offsets) {
      const list = this.#partitions.get(partition);
      if (list === undefined) continue;
      const next = BigInt(offset);
      const decoded = decodeCommitMetadata(metadata, offset);
      const beyond = decoded.kind === "finished" ? decoded.finished : null;
      // Every entry below, not only a prefix: after a reset to a lower offset, newer messages'
      // entries can follow older ones.
      const kept = list.filter((finished) => {
        if (finished.offset >= next && beyond?.has(finished.offset) !== true) return true;
        taken.push(...finished.records);
        this.#bytes -= finished.bytes;
        return false;
      });
      if (kept.length === 0) this.#partitions.delete(partition);
      else this.#partitions.set(partition, kept);
    }
    this.#count -= taken.length;
    return taken;
  }

  /** Drops what waits for `partitions` (given back, or read again from their committed offset). */
  discard(partitions: readonly number[]): void {
    for (const partition of partitions) {
      this.#epochs.set(partition, this.epoch(partition) + 1);
      for (const { records, bytes } of this.#partitions.get(partition) ?? []) {
        this.#count -= records.length;
        this.#bytes -= bytes;
      }
      this.#partitions.delete(partition);
    }
  }
}

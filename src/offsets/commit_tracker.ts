/**
 * Decides which offsets are safe to commit: per partition, only the
 * contiguous prefix of finished messages, so that a commit never passes a
 * message whose handler has not finished (at-least-once).
 *
 * @module
 */

import { compareOffsets, nextOffset, parseOffset } from "./offset.ts";

/** An offset of one partition of the consumer's topic. */
export interface PartitionOffset {
  /** The partition number. */
  partition: number;
  /** The offset, a 64-bit integer as a decimal string. */
  offset: string;
}

/** Options for {@linkcode CommitTracker.prototype.seed}. */
export interface SeedOptions {
  /**
   * Whether the seeded position still has to be committed (a reset, see
   * `StartPosition.commit`): {@linkcode CommitTracker.prototype.pending}
   * then reports it until it is marked committed. When false, the position
   * counts as already committed.
   *
   * @default {false}
   */
  commit?: boolean;
}

const MAX_PARTITION = 2147483647;
/** Popped entries are dropped from a queue's arrays once they are this many and at least half. */
const COMPACT_AFTER = 1024;

/** The state of one tracked partition. */
interface PartitionState {
  /** Begun offsets in increasing order, in `offsets[head..tail)`; slots outside are stale. */
  offsets: string[];
  /** `finished[i]` tells whether the message at `offsets[i]` finished. */
  finished: boolean[];
  /** Index of the oldest unfinished message; always unfinished when `head < tail`. */
  head: number;
  /** Index after the newest begun message. */
  tail: number;
  /** Messages begun and not finished. */
  inFlight: number;
  /** The position set by `seed()`, or null. */
  seed: string | null;
  /** The highest offset begun since the partition was seeded or first seen. */
  lastBegun: string | null;
  /** The highest offset such that every message begun at or below it finished, or null. */
  processed: string | null;
  /** `processed + 1`, cached: computing it allocates a bigint. */
  afterProcessed: string | null;
  /** The last offset recorded as committed, or null. */
  committed: string | null;
}

/**
 * Tracks the messages handed to handlers and tells, per partition, which
 * offset is safe to commit: the offset after the longest prefix of begun
 * messages that have all finished, in Kafka's convention (the next offset to
 * read). Offsets need not be contiguous (compacted topics, transaction
 * markers): with messages 5 and 7 begun and finished, the commit is 8; with 5
 * finished and 7 not, it is 7.
 *
 * Call {@linkcode CommitTracker.prototype.begin} when a message is handed to
 * the handler, {@linkcode CommitTracker.prototype.finish} when its handler
 * finished or it was dead-lettered, {@linkcode CommitTracker.prototype.pending}
 * to get the offsets to commit, and
 * {@linkcode CommitTracker.prototype.markCommitted} once the commit succeeded.
 * Each call costs O(1) amortised per message (finishing a message that is not
 * the oldest in flight of its partition costs O(log n) in that partition's
 * in-flight messages).
 *
 * A partition that was never seeded reports nothing until its first message
 * finishes: without a seed the tracker does not know where the partition
 * started.
 *
 * @example Usage
 * ```ts
 * import { CommitTracker } from "./commit_tracker.ts";
 * import assert from "node:assert/strict";
 *
 * const tracker = new CommitTracker();
 * tracker.seed(0, "5"); // the committed offset on assignment
 * tracker.begin(0, "5");
 * tracker.begin(0, "6");
 * tracker.begin(0, "8"); // offset 7 does not exist (compacted)
 * tracker.finish(0, "6");
 * assert.deepEqual(tracker.pending(), []); // 5 is still in flight
 * tracker.finish(0, "5");
 * assert.deepEqual(tracker.pending(), [{ partition: 0, offset: "8" }]);
 * tracker.finish(0, "8");
 * assert.deepEqual(tracker.pending(), [{ partition: 0, offset: "9" }]);
 * tracker.markCommitted([{ partition: 0, offset: "9" }]);
 * assert.deepEqual(tracker.pending(), []);
 * assert.equal(tracker.processed(0), "8");
 * assert.equal(tracker.committed(0), "9");
 * ```
 */
export class CommitTracker {
  #partitions = new Map<number, PartitionState>();
  #inFlight = 0;

  /**
   * Records that the message at `offset` was handed to the handler. Offsets
   * must increase within a partition; gaps are allowed.
   *
   * @param partition The message's partition.
   * @param offset The message's offset.
   * @throws {TypeError} If `partition` or `offset` has the wrong type.
   * @throws {RangeError} If `offset` is not above the last begun offset of the
   * partition, or is below its seeded position.
   *
   * @example Usage
   * ```ts
   * import { CommitTracker } from "./commit_tracker.ts";
   * import assert from "node:assert/strict";
   *
   * const tracker = new CommitTracker();
   * tracker.begin(0, "41");
   * assert.equal(tracker.inFlight(), 1);
   * assert.throws(() => tracker.begin(0, "41"), RangeError);
   * ```
   */
  begin(partition: number, offset: string): void {
    const action = "begin message";
    checkPartition(partition, action);
    const value = parseOffset(offset, { action, name: "offset" });
    let state = this.#partitions.get(partition);
    if (state === undefined) {
      state = newState(null, null);
      this.#partitions.set(partition, state);
    } else if (state.lastBegun !== null && compareOffsets(value, state.lastBegun) <= 0) {
      throw new RangeError(
        `Cannot ${action} as 'offset' must be greater than the last begun offset ${state.lastBegun} of partition ${partition}: current value is "${offset}"`,
      );
    } else if (state.seed !== null && compareOffsets(value, state.seed) < 0) {
      throw new RangeError(
        `Cannot ${action} as 'offset' must not be below the seeded position ${state.seed} of partition ${partition}: current value is "${offset}"`,
      );
    }
    // Slots are overwritten rather than pushed and truncated: a queue that
    // empties after every message would otherwise reallocate each time.
    state.offsets[state.tail] = value;
    state.finished[state.tail] = false;
    state.tail++;
    state.lastBegun = value;
    state.inFlight++;
    this.#inFlight++;
  }

  /**
   * Records that the handler of the message at `offset` finished (or that
   * the message was dead-lettered). Messages may finish in any order.
   *
   * Returns false, and changes nothing, when the message is not in flight:
   * never begun, already finished, or its partition was revoked. After a
   * partition is revoked and assigned again, the caller must not finish
   * messages begun before the revocation: the tracker cannot tell them from
   * new messages at the same offsets.
   *
   * @param partition The message's partition.
   * @param offset The message's offset.
   * @returns Whether a message in flight was finished.
   * @throws {TypeError} If `partition` or `offset` has the wrong type.
   * @throws {RangeError} If `partition` or `offset` is out of range.
   *
   * @example Usage
   * ```ts
   * import { CommitTracker } from "./commit_tracker.ts";
   * import assert from "node:assert/strict";
   *
   * const tracker = new CommitTracker();
   * tracker.begin(0, "1");
   * assert.equal(tracker.finish(0, "1"), true);
   * assert.equal(tracker.finish(0, "1"), false);
   * assert.equal(tracker.processed(0), "1");
   * ```
   */
  finish(partition: number, offset: string): boolean {
    const action = "finish message";
    checkPartition(partition, action);
    const value = parseOffset(offset, { action, name: "offset" });
    const state = this.#partitions.get(partition);
    if (state === undefined) return false;
    const { offsets, finished, tail } = state;
    let head = state.head;
    if (head < tail && offsets[head] === value) {
      // The oldest message finished: pop it and every finished one behind it.
      state.processed = value;
      head++;
      while (head < tail && finished[head] === true) {
        state.processed = offsets[head] ?? null;
        head++;
      }
      if (head === tail) {
        state.head = state.tail = 0;
      } else if (head >= COMPACT_AFTER && head * 2 >= tail) {
        offsets.copyWithin(0, head, tail);
        finished.copyWithin(0, head, tail);
        offsets.length = finished.length = state.tail = tail - head;
        state.head = 0;
      } else {
        state.head = head;
      }
    } else {
      const index = search(offsets, head + 1, tail, value);
      if (index < 0 || finished[index] === true) return false;
      finished[index] = true;
    }
    state.inFlight--;
    this.#inFlight--;
    return true;
  }

  /**
   * Sets the position from which a partition is tracked: its committed
   * offset on assignment, or the position it was reset to. Nothing below it
   * is ever reported by {@linkcode CommitTracker.prototype.pending}, and
   * messages below it cannot be begun. Replaces what was known about the
   * partition.
   *
   * @param partition The partition.
   * @param offset The next offset to read, in Kafka's convention.
   * @param options Whether the position itself still has to be committed.
   * @throws {TypeError} If an argument has the wrong type.
   * @throws {RangeError} If `partition` or `offset` is out of range.
   * @throws {Error} If the partition has messages in flight.
   *
   * @example Usage
   * ```ts
   * import { CommitTracker } from "./commit_tracker.ts";
   * import assert from "node:assert/strict";
   *
   * const tracker = new CommitTracker();
   * tracker.seed(0, "150"); // resuming from the committed offset
   * tracker.seed(1, "0", { commit: true }); // reset to earliest: commit it
   * assert.deepEqual(tracker.pending(), [{ partition: 1, offset: "0" }]);
   * assert.equal(tracker.committed(0), "150");
   * ```
   */
  seed(partition: number, offset: string, options: SeedOptions = {}): void {
    const action = "seed partition";
    checkPartition(partition, action);
    const value = parseOffset(offset, { action, name: "offset" });
    if (typeof options !== "object" || options === null) {
      throw new TypeError(
        `Cannot ${action} as 'options' must be an object: current value is ${String(options)}`,
      );
    }
    const { commit = false } = options;
    if (typeof commit !== "boolean") {
      throw new TypeError(
        `Cannot ${action} as 'options.commit' must be a boolean: current value is ${
          JSON.stringify(commit) ?? String(commit)
        }`,
      );
    }
    const existing = this.#partitions.get(partition);
    if (existing !== undefined && existing.inFlight > 0) {
      throw new Error(
        `Cannot ${action} ${partition} as it has ${existing.inFlight} message(s) in flight: finish them or revoke the partition first`,
      );
    }
    this.#partitions.set(partition, newState(value, commit ? null : value));
  }

  /**
   * Returns, for each partition whose committable offset moved past what was
   * last marked committed, the offset to commit: the offset after the
   * longest prefix of begun messages that all finished (or the first
   * unfinished message's offset). Calling it again without progress or
   * commits returns the same list. Partitions are in increasing order.
   *
   * @returns The offsets to commit, one per partition that moved.
   *
   * @example Usage
   * ```ts
   * import { CommitTracker } from "./commit_tracker.ts";
   * import assert from "node:assert/strict";
   *
   * const tracker = new CommitTracker();
   * tracker.seed(3, "10");
   * tracker.begin(3, "10");
   * tracker.begin(3, "11");
   * tracker.finish(3, "11");
   * assert.deepEqual(tracker.pending(), []); // 10 is still in flight
   * tracker.finish(3, "10");
   * assert.deepEqual(tracker.pending(), [{ partition: 3, offset: "12" }]);
   * ```
   */
  pending(): PartitionOffset[] {
    const result: PartitionOffset[] = [];
    for (const [partition, state] of this.#partitions) {
      const position = positionOf(state);
      if (
        position !== null &&
        (state.committed === null || compareOffsets(position, state.committed) > 0)
      ) {
        result.push({ partition, offset: position });
      }
    }
    return result.sort((a, b) => a.partition - b.partition);
  }

  /**
   * Records that offsets were committed. An offset that is not above the
   * partition's last recorded commit (a commit superseded by a later one)
   * and partitions that are not tracked are ignored.
   *
   * @param offsets The offsets that were committed, as returned by
   * {@linkcode CommitTracker.prototype.pending}.
   * @throws {TypeError} If an entry has the wrong type.
   * @throws {RangeError} If a partition or offset is out of range.
   *
   * @example Usage
   * ```ts
   * import { CommitTracker } from "./commit_tracker.ts";
   * import assert from "node:assert/strict";
   *
   * const tracker = new CommitTracker();
   * tracker.begin(0, "0");
   * tracker.finish(0, "0");
   * const offsets = tracker.pending();
   * // ...commit `offsets` to Kafka, then:
   * tracker.markCommitted(offsets);
   * assert.deepEqual(tracker.pending(), []);
   * ```
   */
  markCommitted(offsets: Iterable<PartitionOffset>): void {
    for (const { partition, offset } of checkOffsets(offsets, "mark offsets committed")) {
      const state = this.#partitions.get(partition);
      if (
        state !== undefined &&
        (state.committed === null || compareOffsets(offset, state.committed) > 0)
      ) {
        state.committed = offset;
      }
    }
  }

  /**
   * For each of `offsets` that lies below its partition's last recorded
   * commit, that commit. A commit that finished after a newer one was
   * recorded was applied after it (commits of one client are applied in the
   * order they finish) and so moved the partition's committed offset back:
   * these are the offsets to commit again.
   * Partitions that are not tracked are left out.
   *
   * @param offsets Offsets that were just committed.
   * @returns The newer commits of those partitions, in the order of `offsets`.
   * @throws {TypeError} If an entry has the wrong type.
   * @throws {RangeError} If a partition or offset is out of range.
   *
   * @example Usage
   * ```ts
   * import { CommitTracker } from "./commit_tracker.ts";
   * import assert from "node:assert/strict";
   *
   * const tracker = new CommitTracker();
   * tracker.seed(0, "10");
   * tracker.markCommitted([{ partition: 0, offset: "30" }]); // a batch's commit
   * // The worker's commit of 24, tried again by the client, finished after it:
   * assert.deepEqual(tracker.newerCommits([{ partition: 0, offset: "24" }]), [
   *   { partition: 0, offset: "30" },
   * ]);
   * assert.deepEqual(tracker.newerCommits([{ partition: 0, offset: "30" }]), []);
   * ```
   */
  newerCommits(offsets: Iterable<PartitionOffset>): PartitionOffset[] {
    const newer: PartitionOffset[] = [];
    for (const { partition, offset } of checkOffsets(offsets, "find newer commits")) {
      const committed = this.#partitions.get(partition)?.committed ?? null;
      if (committed !== null && compareOffsets(committed, offset) > 0) {
        newer.push({ partition, offset: committed });
      }
    }
    return newer;
  }

  /**
   * Returns the offset safe to commit for a partition now (the oldest
   * unfinished message's offset, or the one after the last finished), or
   * null when nothing is known of it yet — whether or not it was committed.
   *
   * @param partition The partition.
   * @returns The committable offset, in Kafka's convention, or null.
   *
   * @example Usage
   * ```ts
   * import { CommitTracker } from "./commit_tracker.ts";
   * import assert from "node:assert/strict";
   *
   * const tracker = new CommitTracker();
   * tracker.seed(0, "5");
   * assert.equal(tracker.position(0), "5");
   * tracker.begin(0, "5");
   * tracker.begin(0, "6");
   * tracker.finish(0, "6");
   * assert.equal(tracker.position(0), "5");
   * ```
   */
  position(partition: number): string | null {
    checkPartition(partition, "read the committable offset");
    const state = this.#partitions.get(partition);
    return state === undefined ? null : positionOf(state);
  }

  /**
   * Returns the offsets of the partition's messages that finished beyond
   * its committable offset ({@linkcode CommitTracker.prototype.position}),
   * in increasing order: those a commit's metadata can list, so that they
   * are not handled again after a restart.
   *
   * @param partition The partition.
   * @returns The finished offsets after the oldest unfinished message.
   *
   * @example Usage
   * ```ts
   * import { CommitTracker } from "./commit_tracker.ts";
   * import assert from "node:assert/strict";
   *
   * const tracker = new CommitTracker();
   * for (const offset of ["5", "6", "7", "8"]) tracker.begin(0, offset);
   * tracker.finish(0, "6");
   * tracker.finish(0, "8");
   * assert.deepEqual(tracker.finishedBeyond(0), ["6", "8"]);
   * ```
   */
  finishedBeyond(partition: number): string[] {
    checkPartition(partition, "list finished offsets");
    const state = this.#partitions.get(partition);
    if (state === undefined) return [];
    const finished: string[] = [];
    for (let i = state.head + 1; i < state.tail; i++) {
      if (state.finished[i] === true) finished.push(state.offsets[i]!);
    }
    return finished;
  }

  /**
   * Returns the highest offset of the partition such that every message
   * begun at or below it finished, or null if none finished since the
   * partition was seeded or first seen.
   *
   * @param partition The partition.
   * @returns The last processed offset, or null.
   *
   * @example Usage
   * ```ts
   * import { CommitTracker } from "./commit_tracker.ts";
   * import assert from "node:assert/strict";
   *
   * const tracker = new CommitTracker();
   * tracker.begin(0, "4");
   * assert.equal(tracker.processed(0), null);
   * tracker.finish(0, "4");
   * assert.equal(tracker.processed(0), "4");
   * ```
   */
  processed(partition: number): string | null {
    checkPartition(partition, "read processed offset");
    return this.#partitions.get(partition)?.processed ?? null;
  }

  /**
   * Returns the partition's last recorded commit (or its seeded position
   * when seeded without `commit: true`), or null.
   *
   * @param partition The partition.
   * @returns The committed offset, in Kafka's convention, or null.
   *
   * @example Usage
   * ```ts
   * import { CommitTracker } from "./commit_tracker.ts";
   * import assert from "node:assert/strict";
   *
   * const tracker = new CommitTracker();
   * tracker.seed(0, "5");
   * assert.equal(tracker.committed(0), "5");
   * assert.equal(tracker.committed(1), null);
   * ```
   */
  committed(partition: number): string | null {
    checkPartition(partition, "read committed offset");
    return this.#partitions.get(partition)?.committed ?? null;
  }

  /**
   * Forgets partitions, typically after their final commit on revocation.
   * Their messages still in flight are forgotten too, and finishing them
   * later returns false.
   *
   * @param partitions The partitions to forget.
   * @throws {TypeError} If a partition is not a number.
   * @throws {RangeError} If a partition is out of range.
   *
   * @example Usage
   * ```ts
   * import { CommitTracker } from "./commit_tracker.ts";
   * import assert from "node:assert/strict";
   *
   * const tracker = new CommitTracker();
   * tracker.begin(0, "1");
   * tracker.revoke([0]);
   * assert.equal(tracker.inFlight(), 0);
   * assert.equal(tracker.finish(0, "1"), false);
   * ```
   */
  revoke(partitions: Iterable<number>): void {
    const list = [...partitions];
    for (const partition of list) checkPartition(partition, "revoke partitions");
    for (const partition of list) {
      const state = this.#partitions.get(partition);
      if (state === undefined) continue;
      this.#inFlight -= state.inFlight;
      this.#partitions.delete(partition);
    }
  }

  /**
   * Counts the messages begun and not finished, in every partition or in
   * one.
   *
   * @param partition The partition to count; all partitions when omitted.
   * @returns The number of messages in flight.
   *
   * @example Usage
   * ```ts
   * import { CommitTracker } from "./commit_tracker.ts";
   * import assert from "node:assert/strict";
   *
   * const tracker = new CommitTracker();
   * tracker.begin(0, "1");
   * tracker.begin(1, "1");
   * assert.equal(tracker.inFlight(), 2);
   * assert.equal(tracker.inFlight(1), 1);
   * ```
   */
  inFlight(partition?: number): number {
    if (partition === undefined) return this.#inFlight;
    checkPartition(partition, "count messages in flight");
    return this.#partitions.get(partition)?.inFlight ?? 0;
  }
}

function newState(seed: string | null, committed: string | null): PartitionState {
  return {
    offsets: [],
    finished: [],
    head: 0,
    tail: 0,
    inFlight: 0,
    seed,
    lastBegun: null,
    processed: null,
    afterProcessed: null,
    committed,
  };
}

/** The offset safe to commit for a partition, or null when nothing is known yet. */
function positionOf(state: PartitionState): string | null {
  if (state.head < state.tail) {
    // Everything below the oldest unfinished message is finished or absent,
    // but only if the partition's start is known.
    if (state.processed === null && state.seed === null) return null;
    return state.offsets[state.head] ?? null;
  }
  if (state.processed !== null) {
    if (
      state.afterProcessed === null || compareOffsets(state.afterProcessed, state.processed) <= 0
    ) {
      state.afterProcessed = nextOffset(state.processed);
    }
    return state.afterProcessed;
  }
  return state.seed;
}

/** Binary search for `value` in the increasing `offsets[from..to)`; -1 if absent. */
function search(offsets: string[], from: number, to: number, value: string): number {
  let low = from;
  let high = to - 1;
  while (low <= high) {
    const middle = (low + high) >>> 1;
    const order = compareOffsets(offsets[middle]!, value);
    if (order === 0) return middle;
    if (order < 0) low = middle + 1;
    else high = middle - 1;
  }
  return -1;
}

/** `offsets`, each checked and its offset in canonical form; `action` names the caller in errors. */
function checkOffsets(offsets: Iterable<PartitionOffset>, action: string): PartitionOffset[] {
  const checked: PartitionOffset[] = [];
  for (const entry of offsets) {
    if (typeof entry !== "object" || entry === null) {
      throw new TypeError(
        `Cannot ${action} as each entry must be an object: current value is ${String(entry)}`,
      );
    }
    checkPartition(entry.partition, action);
    checked.push({
      partition: entry.partition,
      offset: parseOffset(entry.offset, { action, name: "offset" }),
    });
  }
  return checked;
}

function checkPartition(partition: unknown, action: string): asserts partition is number {
  if (typeof partition !== "number") {
    throw new TypeError(
      `Cannot ${action} as 'partition' must be a non-negative integer: current value is ${
        typeof partition === "string" ? JSON.stringify(partition) : String(partition)
      }`,
    );
  }
  if (!Number.isInteger(partition) || partition < 0 || partition > MAX_PARTITION) {
    throw new RangeError(
      `Cannot ${action} as 'partition' must be a non-negative integer: current value is ${partition}`,
    );
  }
}

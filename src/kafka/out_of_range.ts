/**
 * Moving an out-of-range partition to `autoOffsetReset`, shared by the
 * sessions that run their own fetch loop (kafkajs's simple mode, the
 * platformatic engine).
 *
 * @module
 */
import type { Logger } from "../log.ts";
import type { PartitionOffset } from "./session.ts";

/** Where a fetch loop stands in one partition. */
export interface ReadCursor {
  partition: number;
  /** The next offset to fetch; null until reading begins. */
  position: string | null;
  /** Bumped on every move: a batch of an older epoch is no longer active. */
  epoch: number;
}

/** What {@linkcode resetOutOfRange} needs from its session. */
export interface OutOfRangeSession {
  autoOffsetReset: "earliest" | "latest";
  listOffsets(partitions: number[], at: "earliest" | "latest"): Promise<Map<number, string>>;
  /** Commits under the session's current generation, after any commit under way. */
  commit(offsets: PartitionOffset[]): Promise<void>;
  /** Whether `cursor` is still the session's cursor for its partition. */
  current(cursor: ReadCursor): boolean;
  log: Logger;
  onOutOfRange(partition: number): void;
}

/**
 * Moves `cursor` to `autoOffsetReset` and commits it there at once. The
 * position moves before the commit, so that an auto commit running meanwhile
 * reads the new position and cannot commit the old one after this commit; if
 * this commit fails, the cursor goes back (reading from there resets again)
 * and the error is thrown.
 *
 * @example
 * ```ts ignore
 * await resetOutOfRange(cursor, { autoOffsetReset: "earliest", listOffsets, commit, current, log, onOutOfRange });
 * ```
 */
export async function resetOutOfRange(
  cursor: ReadCursor,
  session: OutOfRangeSession,
): Promise<void> {
  const { partition } = cursor;
  const reset = session.autoOffsetReset;
  const target = (await session.listOffsets([partition], reset)).get(partition)!;
  session.log.warn("offset out of range; moving to autoOffsetReset", {
    partition,
    offset: cursor.position,
    autoOffsetReset: reset,
    to: target,
  });
  const previous = cursor.position;
  cursor.position = target;
  cursor.epoch++;
  try {
    await session.commit([{ partition, offset: target }]);
  } catch (error) {
    if (cursor.position === target && session.current(cursor)) {
      cursor.position = previous;
      cursor.epoch++;
    }
    throw error;
  }
  session.onOutOfRange(partition);
}

/**
 * What a fetch round that ended with `failures` (its failed fetches, in
 * order) must report once its out-of-range partitions were reset: a failure
 * that is only partitions out of range is handled by their resets, any
 * other must still be reported (so that the session backs off, reloads the
 * metadata and counts it toward giving up). Null when there is none.
 *
 * @example
 * ```ts
 * const outOfRange = (e: unknown) => e === "out of range";
 * roundFailure(["out of range", "connection closed"], outOfRange); // "connection closed"
 * roundFailure(["out of range"], outOfRange); // null
 * ```
 */
export function roundFailure(
  failures: readonly unknown[],
  onlyOutOfRange: (failure: unknown) => boolean,
): unknown {
  return failures.find((failure) => !onlyOutOfRange(failure)) ?? null;
}

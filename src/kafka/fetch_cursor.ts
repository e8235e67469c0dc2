/**
 * Where a session that runs its own fetch loop (kafkajs's simple mode, the
 * platformatic engine) stands with each partition, and the small moves
 * both make on it.
 *
 * @module
 */
import type { ReadCursor } from "./out_of_range.ts";
import type { PartitionOffset } from "./session.ts";

/** One partition of a fetch loop. */
export interface FetchCursor extends ReadCursor {
  /** The offset this session last committed or read as committed. */
  committed: string | null;
  paused: boolean;
}

/**
 * A cursor per partition, none reading yet (`begin()` sets their positions).
 *
 * @example
 * ```ts
 * newCursors([0, 1]).get(1); // { partition: 1, position: null, committed: null, paused: false, epoch: 0 }
 * ```
 */
export function newCursors(partitions: readonly number[]): Map<number, FetchCursor> {
  return new Map(
    partitions.map((partition) => [
      partition,
      { partition, position: null, committed: null, paused: false, epoch: 0 },
    ]),
  );
}

/**
 * Moves `cursor` to just after `offset`, never backwards.
 *
 * @example
 * ```ts
 * const cursor = { ...newCursors([0]).get(0)!, position: "5" };
 * advanceCursor(cursor, "9"); // position "10"
 * advanceCursor(cursor, "3"); // still "10"
 * ```
 */
export function advanceCursor(cursor: ReadCursor, offset: string): void {
  const next = BigInt(offset) + 1n;
  if (cursor.position === null || next > BigInt(cursor.position)) cursor.position = String(next);
}

/** The cursors that read and are not paused: those a fetch round asks for. */
export function readyCursors(cursors: Iterable<FetchCursor>): FetchCursor[] {
  return [...cursors].filter((c) => c.position !== null && !c.paused);
}

/** The positions of the cursors that read (whether paused or not). */
export function readPositions(cursors: Iterable<FetchCursor>): PartitionOffset[] {
  return [...cursors]
    .filter((c) => c.position !== null)
    .map((c) => ({ partition: c.partition, offset: c.position! }));
}

/** The positions that moved since they were last committed. */
export function uncommittedPositions(cursors: Iterable<FetchCursor>): PartitionOffset[] {
  return readPositions([...cursors].filter((c) => c.position !== c.committed));
}

/** Records `offsets` as committed on the cursors that still exist. */
export function markCommitted(
  cursors: ReadonlyMap<number, FetchCursor>,
  offsets: readonly PartitionOffset[],
): void {
  for (const { partition, offset } of offsets) {
    const cursor = cursors.get(partition);
    if (cursor) cursor.committed = offset;
  }
}

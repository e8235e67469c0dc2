/**
 * Starting an assignment: where each partition starts (the offset rules of
 * PRODUCT.md §3, via `startPosition()`), committed at once, then read.
 *
 * @module
 */
import type { ConsumerConfig } from "../config/types.ts";
import type { ConsumerSession } from "../kafka/session.ts";
import { startPosition } from "../offsets/start_position.ts";
import type { PartitionStart } from "../protocol.ts";

/**
 * Decides and commits the start position of every partition of an
 * assignment, then starts reading them. `heldAtStart` are the partitions to
 * treat as held when the consumer's start settled.
 *
 * Rejects with `StaleAssignmentError` if a newer assignment replaced this one
 * before the positions were committed; `reading` is false when it did so
 * after (the positions are committed, the partitions are not read).
 */
export async function startAssignment(
  session: ConsumerSession,
  consumer: Pick<ConsumerConfig, "autoOffsetReset" | "resetOffsetOnStart">,
  { generation, partitions, heldAtStart }: {
    generation: number;
    partitions: readonly number[];
    heldAtStart: readonly number[];
  },
): Promise<{ starts: PartitionStart[]; reading: boolean }> {
  if (partitions.length === 0) return { starts: [], reading: true };
  const states = await session.describe([...partitions]);
  const starts = states.map((state): PartitionStart => {
    const position = startPosition({
      autoOffsetReset: consumer.autoOffsetReset,
      resetOffsetOnStart: consumer.resetOffsetOnStart,
      heldAtStart: heldAtStart.includes(state.partition),
      committed: state.committed,
      logStartOffset: state.logStartOffset,
      highWatermark: state.highWatermark,
    });
    return { partition: state.partition, offset: position.offset, reason: position.reason };
  });
  // Every start position is committed, resets and resumptions alike: peers and
  // restarts then see it, and the client's cached position cannot disagree.
  const reading = await session.begin(
    generation,
    starts.map(({ partition, offset }) => ({ partition, offset })),
  );
  return { starts, reading };
}

/**
 * Starting an assignment: where each partition starts (the offset rules of
 * PRODUCT.md §3, via `startPosition()`), committed at once, then read.
 *
 * @module
 */
import type { ConsumerConfig } from "../config/types.ts";
import type { ConsumerSession } from "../kafka/session.ts";
import { decodeCommitMetadata, type DecodedMetadata } from "../offsets/commit_metadata.ts";
import { type DecidedReset, decidedResetStands } from "../offsets/decided_reset.ts";
import { startPosition } from "../offsets/start_position.ts";
import type { PartitionStart } from "../protocol.ts";

/** The assignment to start, and the partitions to treat as held when the consumer's start settled. */
export interface AssignmentToStart {
  generation: number;
  partitions: readonly number[];
  heldAtStart: readonly number[];
  /** Resets of partitions held at start decided by an earlier, abandoned start (default none). */
  decided?: readonly DecidedReset[];
}

/** What the commit a partition resumes from says finished beyond it (`ordering: key` and `none`). */
export interface ResumedMetadata {
  partition: number;
  /** The metadata as committed: written again with the start position, so that it survives it. */
  metadata: string | null;
  decoded: DecodedMetadata;
}

/**
 * The start of one assignment, tried until it succeeds: the first attempt
 * decides every partition's start position from the broker's offsets, and
 * every attempt commits those positions, then starts reading them.
 *
 * The decision is made once. An attempt can fail after its commit was
 * applied (the answer was lost on the way back); deciding again would then
 * read the offsets that commit left, and a `latest` reset would move to the
 * new end of the log, past every message that arrived in between. For the
 * same reason a reset decided by an earlier start of the same partition,
 * abandoned when its assignment moved on or its worker stopped, is reused
 * while it stands ({@linkcode decidedResetStands}); `onDecided` hears the
 * resets before the first commit, so that a later start can reuse them.
 *
 * @example
 * ```ts ignore
 * const start = new AssignmentStart(consumer, { generation: 3, partitions: [0, 1], heldAtStart: [0] });
 * for (;;) {
 *   try {
 *     const { starts, reading } = await start.run(session);
 *     break;
 *   } catch {
 *     await sleep(500); // then again, with the same positions
 *   }
 * }
 * ```
 */
export class AssignmentStart {
  readonly #consumer: Pick<
    ConsumerConfig,
    "autoOffsetReset" | "resetOffsetOnStart" | "ordering"
  >;
  readonly #assignment: AssignmentToStart;
  readonly #onDecided: (resets: DecidedReset[]) => void;
  #starts: PartitionStart[] | null = null;
  #resumed: ResumedMetadata[] = [];

  constructor(
    consumer: Pick<ConsumerConfig, "autoOffsetReset" | "resetOffsetOnStart" | "ordering">,
    assignment: AssignmentToStart,
    { onDecided = () => {} }: { onDecided?: (resets: DecidedReset[]) => void } = {},
  ) {
    this.#consumer = consumer;
    this.#assignment = assignment;
    this.#onDecided = onDecided;
  }

  /**
   * Decides the start positions (on the first call that gets that far) and
   * commits them, then starts reading them.
   *
   * Rejects with `StaleAssignmentError` if a newer assignment replaced this
   * one before the positions were committed; `reading` is false when it did
   * so after (the positions are committed, the partitions are not read).
   *
   * With `ordering: key` or `none`, `resumed` has what the commit of each
   * partition that resumes from it says finished beyond it; its metadata is
   * committed again with the start position (`partition` ignores metadata,
   * and its start commits clear it).
   */
  async run(
    session: ConsumerSession,
  ): Promise<{ starts: PartitionStart[]; reading: boolean; resumed: ResumedMetadata[] }> {
    const { generation, partitions } = this.#assignment;
    if (partitions.length === 0) return { starts: [], reading: true, resumed: [] };
    if (this.#starts === null) {
      const decided = await this.#decide(session);
      this.#onDecided(decided.resets);
      this.#starts = decided.starts;
    }
    const starts = this.#starts;
    const kept = new Map(
      this.#resumed.filter((r) => r.decoded.kind === "finished").map((r) => [
        r.partition,
        r.metadata,
      ]),
    );
    // Every start position is committed, resets and resumptions alike: peers and
    // restarts then see it, and the client's cached position cannot disagree.
    const reading = await session.begin(
      generation,
      starts.map(({ partition, offset }) => ({
        partition,
        offset,
        ...(kept.has(partition) ? { metadata: kept.get(partition)! } : {}),
      })),
    );
    return { starts, reading, resumed: this.#resumed };
  }

  async #decide(
    session: ConsumerSession,
  ): Promise<{ starts: PartitionStart[]; resets: DecidedReset[] }> {
    const { partitions, heldAtStart, decided = [] } = this.#assignment;
    const states = await session.describe([...partitions]);
    const keyed = this.#consumer.ordering !== "partition";
    const starts: PartitionStart[] = [];
    const resets: DecidedReset[] = [];
    for (const { partition, committed, metadata, logStartOffset, highWatermark } of states) {
      const earlier = decided.find((d) => d.partition === partition);
      const held = heldAtStart.includes(partition);
      if (held && earlier !== undefined && decidedResetStands(earlier, committed)) {
        starts.push({ partition, offset: earlier.offset, reason: earlier.reason });
        resets.push(earlier);
        continue;
      }
      const position = startPosition({
        autoOffsetReset: this.#consumer.autoOffsetReset,
        resetOffsetOnStart: this.#consumer.resetOffsetOnStart,
        // An earlier reset that no longer stands: someone moved on from it; resume as they left it.
        heldAtStart: held && earlier === undefined,
        committed,
        logStartOffset,
        highWatermark,
      });
      starts.push({ partition, offset: position.offset, reason: position.reason });
      if (held && position.commit) {
        resets.push({ partition, offset: position.offset, reason: position.reason, committed });
      }
      if (keyed && position.reason === "committed") {
        this.#resumed.push({
          partition,
          metadata,
          decoded: decodeCommitMetadata(metadata, position.offset),
        });
      }
    }
    return { starts, resets };
  }
}

/**
 * What a worker with `ordering: key` or `none` commits: per partition, the
 * offset of its oldest unfinished message, with the finished offsets beyond
 * it in the commit's metadata (`src/offsets/commit_metadata.ts`). A commit
 * is due when either moved since the partition's last commit.
 *
 * @module
 */
import type { PartitionOffset } from "../kafka/session.ts";
import type { CommitTracker } from "../offsets/commit_tracker.ts";
import { encodeCommitMetadata, METADATA_LIMIT } from "../offsets/commit_metadata.ts";
import { compareOffsets } from "../offsets/offset.ts";

/** The commits due, and how many finished offsets their metadata could not list. */
export interface DueCommits {
  offsets: PartitionOffset[];
  /** Finished offsets left out of the metadata (it would not fit). */
  dropped: number;
}

/**
 * Remembers each partition's last commit (offset and metadata) and tells
 * which commits are due.
 *
 * @example
 * ```ts
 * const commits = new MetadataCommits();
 * commits.started(0, "10", null); // the start position, as committed at begin
 * const { offsets } = commits.due(tracker, [0]); // e.g. [{ partition: 0, offset: "10", metadata: "cd1:10:bBw" }]
 * // ...commit them, then:
 * commits.committed(offsets);
 * ```
 */
export class MetadataCommits {
  #limit: number;
  readonly #last = new Map<number, { offset: string; metadata: string | null }>();

  constructor({ limit = METADATA_LIMIT }: { limit?: number } = {}) {
    this.#limit = limit;
  }

  /** The longest metadata written now. */
  get limit(): number {
    return this.#limit;
  }

  /**
   * The broker refused metadata this long: halves the limit (to none at
   * all, past 64 characters). Returns false when there was no metadata
   * left to shorten.
   */
  shrink(): boolean {
    if (this.#limit === 0) return false;
    this.#limit = this.#limit > 64 ? Math.floor(this.#limit / 2) : 0;
    return true;
  }

  /** `partition` started at `offset`, committed with `metadata` (begin commits every start). */
  started(partition: number, offset: string, metadata: string | null): void {
    this.#last.set(partition, { offset, metadata });
  }

  /** Forgets partitions (revoked, or reset out of range). */
  forget(partitions: Iterable<number>): void {
    for (const partition of partitions) this.#last.delete(partition);
  }

  /** Records commits that were applied. */
  committed(offsets: readonly PartitionOffset[]): void {
    for (const { partition, offset, metadata } of offsets) {
      this.#last.set(partition, { offset, metadata: metadata ?? null });
    }
  }

  /**
   * The commits due for `partitions`: where the committable offset or the
   * finished offsets beyond it changed since the last commit. Never an
   * offset below the tracker's last recorded commit.
   */
  due(tracker: CommitTracker, partitions: readonly number[]): DueCommits {
    const offsets: PartitionOffset[] = [];
    let dropped = 0;
    for (const partition of [...partitions].sort((a, b) => a - b)) {
      const position = tracker.position(partition);
      if (position === null) continue;
      const committed = tracker.committed(partition);
      if (committed !== null && compareOffsets(position, committed) < 0) continue;
      const encoded = encodeCommitMetadata(position, tracker.finishedBeyond(partition), {
        limit: this.#limit,
      });
      const last = this.#last.get(partition);
      if (last?.offset === position && last.metadata === encoded.metadata) continue;
      offsets.push({ partition, offset: position, metadata: encoded.metadata });
      dropped += encoded.dropped;
    }
    return { offsets, dropped };
  }
}

/**
 * The partition counts of a worker's output topics, as last read, each
 * trusted for a few seconds only: a record whose count is known is routed
 * and checked at once, and one whose count is older is checked against
 * fresh metadata first. So partitions added to a topic are used, and a
 * topic deleted and made again with fewer partitions is noticed, within
 * {@linkcode PARTITION_COUNT_MAX_AGE_MS}, as the library's own metadata is.
 * Pure.
 *
 * @module
 */

/** How long a partition count read is trusted, ms (the library's metadata max age). */
export const PARTITION_COUNT_MAX_AGE_MS = 5_000;

/** Partition counts by topic, each forgotten `maxAgeMs` after it was read. */
export class PartitionCounts {
  readonly #counts = new Map<string, { count: number; at: number }>();
  readonly #maxAgeMs: number;
  readonly #now: () => number;

  constructor(
    { maxAgeMs = PARTITION_COUNT_MAX_AGE_MS, now = Date.now }: {
      maxAgeMs?: number;
      now?: () => number;
    } = {},
  ) {
    this.#maxAgeMs = maxAgeMs;
    this.#now = now;
  }

  /** `topic`'s count, unless it was never read, forgotten, or read too long ago. */
  get(topic: string): number | undefined {
    const known = this.#counts.get(topic);
    if (known === undefined || this.#now() - known.at > this.#maxAgeMs) return undefined;
    return known.count;
  }

  /** Records `count` as read now. */
  set(topic: string, count: number): void {
    this.#counts.set(topic, { count, at: this.#now() });
  }

  /** Forgets `topic`'s count (a read or a request to it failed). */
  delete(topic: string): void {
    this.#counts.delete(topic);
  }
}

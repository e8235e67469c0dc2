/**
 * The high watermarks of the partitions a worker holds, and which of them
 * to ask the broker for: a fetch reports a partition's high watermark only
 * when the partition's batch is handled, so one that is paused, or waits
 * behind a slow handler, or has had nothing to read since the start, would
 * show no lag (or a stale one) while the broker's grows.
 *
 * @module
 */

/** How soon a partition without a high watermark is asked for, ms. */
export const UNKNOWN_REFRESH_MS = 2000;
/** How old a partition's high watermark may grow before it is asked for again, ms. */
export const STALE_REFRESH_MS = 10_000;

/**
 * Each partition's last known high watermark and when it was learnt. A
 * value learnt earlier never replaces one learnt later (a broker answer
 * that was sent before the last fetch returned is older than that fetch).
 *
 * @example
 * ```ts
 * const marks = new Watermarks();
 * marks.set(0, "42", Date.now());
 * marks.due([0, 1], Date.now()); // [1]: never learnt
 * ```
 */
export class Watermarks {
  readonly #known = new Map<number, { value: string; at: number }>();
  /** When each partition was last asked for, so that one is not asked for again at once. */
  readonly #asked = new Map<number, number>();

  /** The high watermark of `partition` as learnt at `at` (ms); ignored if a later one is known. */
  set(partition: number, value: string, at: number): void {
    const known = this.#known.get(partition);
    if (known !== undefined && known.at > at) return;
    this.#known.set(partition, { value, at });
  }

  /** The last known high watermark of `partition`, or null. */
  get(partition: number): string | null {
    return this.#known.get(partition)?.value ?? null;
  }

  /**
   * The partitions of `held` to ask the broker for at `now`: those never
   * learnt, every {@linkcode UNKNOWN_REFRESH_MS}; those learnt longer than
   * {@linkcode STALE_REFRESH_MS} ago, every {@linkcode STALE_REFRESH_MS}.
   * Marks them asked.
   */
  due(held: readonly number[], now: number): number[] {
    const due = held.filter((partition) => {
      const known = this.#known.get(partition);
      const wait = known === undefined ? UNKNOWN_REFRESH_MS : STALE_REFRESH_MS;
      const since = Math.max(known?.at ?? -Infinity, this.#asked.get(partition) ?? -Infinity);
      return now - since >= wait;
    });
    for (const partition of due) this.#asked.set(partition, now);
    return due;
  }

  /** Forgets partitions no longer held (their next holder learns them anew). */
  forget(partitions: readonly number[]): void {
    for (const partition of partitions) {
      this.#known.delete(partition);
      this.#asked.delete(partition);
    }
  }
}

/**
 * Median and spread of repeated measurements.
 *
 * @module
 */

/** The median of a set of runs and its spread (smallest and largest run). */
export interface Spread {
  median: number;
  min: number;
  max: number;
  /** How many runs the figures come from. */
  runs: number;
}

/**
 * Summarises repeated measurements.
 *
 * @example
 * ```ts
 * spread([3, 1, 2]); // { median: 2, min: 1, max: 3, runs: 3 }
 * ```
 */
export function spread(values: readonly number[]): Spread {
  if (values.length === 0) {
    throw new RangeError("Cannot summarise the runs as there are none: current value is []");
  }
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  const median = sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  return { median, min: sorted[0]!, max: sorted[sorted.length - 1]!, runs: sorted.length };
}

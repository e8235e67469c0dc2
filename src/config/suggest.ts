/**
 * "Did you mean" hints for misspelt keys and enum values.
 *
 * @module
 */

/**
 * The edit distance between two strings (Levenshtein, with a swap of two
 * adjacent characters counted as one edit): the fewest insertions,
 * deletions, substitutions and transpositions that turn `a` into `b`.
 *
 * @example
 * ```ts
 * editDistance("earlist", "earliest"); // 1
 * editDistance("kye", "key"); // 1
 * ```
 */
export function editDistance(a: string, b: string): number {
  if (a === b) return 0;
  if (a.length === 0) return b.length;
  if (b.length === 0) return a.length;
  const rows: number[][] = [Array.from({ length: b.length + 1 }, (_, j) => j)];
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    const above = rows[i - 1] as number[];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(
        (above[j - 1] as number) + cost,
        (above[j] as number) + 1,
        (row[j - 1] as number) + 1,
      );
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        best = Math.min(best, (rows[i - 2]?.[j - 2] as number) + 1);
      }
      row.push(best);
    }
    rows.push(row);
  }
  return rows[a.length]?.[b.length] as number;
}

/**
 * The candidate closest to `input`, if it is close enough to be a likely
 * typo: a case-insensitive match, or at most one edit per three characters
 * (at least one edit). Returns `undefined` when nothing is close.
 *
 * @example
 * ```ts
 * closestMatch("autoOffsetRest", ["autoOffsetReset", "topic"]); // "autoOffsetReset"
 * closestMatch("colour", ["topic", "group"]); // undefined
 * ```
 */
export function closestMatch(input: string, candidates: readonly string[]): string | undefined {
  const needle = input.toLowerCase();
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    const distance = editDistance(needle, candidate.toLowerCase());
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  if (best === undefined) return undefined;
  const allowed = Math.max(1, Math.floor(Math.max(input.length, best.length) / 3));
  return bestDistance <= allowed ? best : undefined;
}

/**
 * A ` (did you mean "x"?)` suffix for an error message, or `""` when no
 * candidate is close to `input`.
 *
 * @example
 * ```ts
 * `unknown key "grop"${didYouMean("grop", ["group", "topic"])}`;
 * // 'unknown key "grop" (did you mean "group"?)'
 * ```
 */
export function didYouMean(input: string, candidates: readonly string[]): string {
  const match = closestMatch(input, candidates);
  return match === undefined ? "" : ` (did you mean ${JSON.stringify(match)}?)`;
}

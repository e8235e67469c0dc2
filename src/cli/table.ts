/**
 * Plain-text tables for the command line: columns padded to their widest cell.
 *
 * @module
 */

/**
 * Formats rows under a header, columns separated by two spaces.
 *
 * @example
 * ```ts
 * formatTable(["PARTITION", "LAG"], [["0", "12"]]); // "PARTITION  LAG\n0          12"
 * ```
 */
export function formatTable(
  header: readonly string[],
  rows: readonly (readonly string[])[],
): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: readonly string[]) =>
    cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join("  ").trimEnd();
  return [line(header), ...rows.map(line)].join("\n");
}

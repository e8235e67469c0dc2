/**
 * Guards that run before the YAML parser, so that hostile or accidental
 * inputs (a 10 MB file, `[[[[…`, an alias bomb) fail fast with a clear error
 * instead of using seconds of CPU or overflowing the stack.
 *
 * @module
 */

/** Largest accepted config file, in bytes (1 MiB). */
export const MAX_CONFIG_BYTES = 1024 * 1024;

/** Largest number of alias expansions (`*name`) when building values. */
export const MAX_ALIAS_COUNT = 100;

/**
 * Most values (scalars, lists and mappings) the document may hold once its
 * aliases are expanded. A 1 MiB file holds at most about 500,000 values
 * without aliases; past this budget aliases are repeating a large value.
 */
export const MAX_EXPANDED_VALUES = 1_000_000;

/** Deepest accepted nesting of flow collections (`[`, `{`). */
export const MAX_FLOW_DEPTH = 64;

/** The UTF-8 size of `text` in bytes. */
export function utf8Length(text: string): number {
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x80) bytes += 1;
    else if (code < 0x800) bytes += 2;
    else if (code >= 0xd800 && code <= 0xdbff) {
      bytes += 4;
      i++;
    } else bytes += 3;
  }
  return bytes;
}

/**
 * A message when `size` bytes is over `maxBytes`, else `undefined`.
 *
 * @example
 * ```ts
 * sizeProblem(10_485_760, MAX_CONFIG_BYTES);
 * // "the file is 10485760 bytes, over the limit of 1048576 bytes (1 MiB)"
 * ```
 */
export function sizeProblem(size: number, maxBytes: number): string | undefined {
  if (size <= maxBytes) return undefined;
  const mib = maxBytes / (1024 * 1024);
  const limit = Number.isInteger(mib) ? ` (${mib} MiB)` : "";
  return `the file is ${size} bytes, over the limit of ${maxBytes} bytes${limit}`;
}

/**
 * The offset where flow collections (`[` and `{`) first nest deeper than
 * `maxDepth`, or `undefined`. Brackets inside quoted strings and comments do
 * not count; the scan is linear and allocation-free.
 *
 * @example
 * ```ts
 * flowDepthOverflow("a: [[1]]", 1); // 4
 * ```
 */
export function flowDepthOverflow(text: string, maxDepth: number): number | undefined {
  let depth = 0;
  let quote = "";
  for (let i = 0; i < text.length; i++) {
    const char = text[i];
    if (quote !== "") {
      if (char === "\\" && quote === '"') i++;
      else if (char === "'" && quote === "'" && text[i + 1] === "'") i++;
      else if (char === quote) quote = "";
      else if (char === "\n" && quote === "#") quote = "";
      continue;
    }
    if (char === "[" || char === "{") {
      depth++;
      if (depth > maxDepth) return i;
    } else if (char === "]" || char === "}") {
      depth = Math.max(0, depth - 1);
    } else if (char === '"' || char === "'") {
      // A quote opens a string only at the start of a scalar.
      const previous = i === 0 ? " " : text[i - 1];
      if (previous !== undefined && " \t\n[{,:".includes(previous)) quote = char;
    } else if (char === "#") {
      const previous = i === 0 ? " " : text[i - 1];
      if (previous === " " || previous === "\t" || previous === "\n") quote = "#";
    }
  }
  return undefined;
}

/**
 * Whether `value` holds more than `budget` values when shared references
 * (YAML aliases) are counted each time they occur. Stops as soon as the
 * budget is spent, so it is cheap even for an alias bomb or a cycle.
 *
 * @example
 * ```ts
 * const big = Array(1000).fill(0);
 * exceedsExpandedSize({ a: big, b: big }, 1500); // true
 * ```
 */
export function exceedsExpandedSize(value: unknown, budget: number): boolean {
  let remaining = budget;
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const current = stack.pop();
    if (--remaining < 0) return true;
    if (Array.isArray(current)) {
      for (const item of current) stack.push(item);
    } else if (current !== null && typeof current === "object") {
      for (const item of Object.values(current)) stack.push(item);
    }
  }
  return false;
}

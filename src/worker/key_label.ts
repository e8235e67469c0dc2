/**
 * How `/status` shows a message key (a paused key).
 *
 * @module
 */

/**
 * A message key as status shows it: its text when it is printable UTF-8,
 * else `0x` and its bytes in hex; at most 64 characters.
 *
 * @example
 * ```ts
 * keyLabel(new TextEncoder().encode("order-7")); // "order-7"
 * keyLabel(new Uint8Array([0, 255])); // "0x00ff"
 * keyLabel(null); // null
 * ```
 */
export function keyLabel(key: Uint8Array | null): string | null {
  if (key === null) return null;
  const shown = key.subarray(0, 64);
  const more = key.length > 64 ? "…" : "";
  try {
    const text = new TextDecoder("utf-8", { fatal: true }).decode(shown);
    // deno-lint-ignore no-control-regex
    if (!/[\u0000-\u001f\u007f]/.test(text)) return text + more;
  } catch {
    // not UTF-8: hex below
  }
  return `0x${Array.from(shown.subarray(0, 31), (b) => b.toString(16).padStart(2, "0")).join("")}${
    key.length > 31 ? "…" : ""
  }`;
}

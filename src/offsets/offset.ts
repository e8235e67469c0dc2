/**
 * Kafka offsets as decimal strings.
 *
 * Offsets are signed 64-bit integers on the wire; a JavaScript number loses
 * precision above 2^53, so consumerd carries them as strings in canonical
 * form (decimal digits, no sign, no leading zeros) and compares them without
 * converting them to numbers. These helpers validate, compare and advance
 * such strings.
 *
 * @module
 */

/** The largest offset Kafka can store: 2^63 - 1. */
export const MAX_OFFSET = "9223372036854775807";

/** Names the operation and the argument in the errors that {@linkcode parseOffset} throws. */
export interface OffsetContext {
  /** What the caller was doing, completing "Cannot …", e.g. `"compute start position"`. */
  action: string;
  /** The name of the argument or field that held the value, e.g. `"committed"`. */
  name: string;
}

const CANONICAL = /^(?:0|[1-9][0-9]{0,18})$/;
const DIGITS = /^[0-9]+$/;

/**
 * Checks that `value` is an offset: a string of decimal digits whose value
 * lies in 0..2^63-1. Returns it in canonical form (leading zeros removed).
 *
 * @param value The value to check.
 * @param context Names the operation and the argument in error messages.
 * @returns The offset in canonical form.
 * @throws {TypeError} If `value` is not a string of decimal digits.
 * @throws {RangeError} If `value` is negative or above 2^63-1.
 *
 * @example Usage
 * ```ts
 * import { parseOffset } from "./offset.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(parseOffset("0042", { action: "seek", name: "offset" }), "42");
 * assert.throws(
 *   () => parseOffset("abc", { action: "seek", name: "offset" }),
 *   TypeError,
 * );
 * ```
 */
export function parseOffset(value: unknown, context: OffsetContext): string {
  // Fast path: canonical and at most 19 digits, as Kafka clients report offsets.
  if (typeof value === "string" && CANONICAL.test(value)) {
    if (value.length < 19 || value <= MAX_OFFSET) return value;
  } else if (typeof value === "string" && DIGITS.test(value)) {
    const canonical = BigInt(value).toString();
    if (compareOffsets(canonical, MAX_OFFSET) <= 0) return canonical;
  } else {
    const negative = typeof value === "string" && value.startsWith("-") &&
      DIGITS.test(value.slice(1));
    const ErrorClass = negative ? RangeError : TypeError;
    throw new ErrorClass(
      `Cannot ${context.action} as '${context.name}' must be a non-negative integer string: current value is ${
        describeValue(value)
      }`,
    );
  }
  throw new RangeError(
    `Cannot ${context.action} as '${context.name}' must not exceed ${MAX_OFFSET}: current value is ${
      describeValue(value)
    }`,
  );
}

/**
 * Compares two offsets in canonical form (as returned by
 * {@linkcode parseOffset}) without converting them to numbers.
 *
 * @param a The first offset.
 * @param b The second offset.
 * @returns A negative number if `a < b`, zero if they are equal, a positive
 * number if `a > b`.
 *
 * @example Usage
 * ```ts
 * import { compareOffsets } from "./offset.ts";
 * import assert from "node:assert/strict";
 *
 * assert.ok(compareOffsets("9", "10") < 0);
 * assert.ok(compareOffsets("9007199254740993", "9007199254740992") > 0);
 * assert.equal(compareOffsets("7", "7"), 0);
 * ```
 */
export function compareOffsets(a: string, b: string): number {
  if (a.length !== b.length) return a.length - b.length;
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Returns the offset that follows `offset`, in canonical form: the value to
 * commit once the message at `offset` has been processed.
 *
 * @param offset An offset in canonical form.
 * @returns `offset + 1`.
 *
 * @example Usage
 * ```ts
 * import { nextOffset } from "./offset.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(nextOffset("4"), "5");
 * assert.equal(nextOffset("9007199254740992"), "9007199254740993");
 * ```
 */
export function nextOffset(offset: string): string {
  return (BigInt(offset) + 1n).toString();
}

/** Formats a value for an error message: strings quoted, everything else as written in code. */
function describeValue(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value);
  if (typeof value === "bigint") return `${value}n`;
  if (typeof value === "object" && value !== null) {
    try {
      return JSON.stringify(value) ?? Object.prototype.toString.call(value);
    } catch {
      return Object.prototype.toString.call(value);
    }
  }
  return String(value);
}

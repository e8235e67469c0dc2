/**
 * Exponential backoff with jitter, for restarting workers and retrying
 * handlers and connections.
 *
 * @module
 */

/** Options for {@linkcode backoffDelay}. */
export interface BackoffOptions {
  /** The delay ceiling after the first failed attempt, in milliseconds. */
  baseMs: number;
  /** The largest delay ever returned, in milliseconds; at least `baseMs`. */
  maxMs: number;
  /**
   * How much of the delay is random, from 0 to 1: the delay is drawn from
   * `[(1 - jitter) * ceiling, ceiling]`. 1 is "full jitter", 0.5 "equal
   * jitter", 0 no jitter.
   *
   * @default {1}
   */
  jitter?: number;
  /**
   * The source of randomness, returning a number in [0, 1].
   *
   * @default {Math.random}
   */
  random?: () => number;
}

const ACTION = "compute backoff delay";

/**
 * Returns how long to wait before the next attempt, in milliseconds: an
 * exponential ceiling, `min(maxMs, baseMs * 2 ** (attempt - 1))`, of which
 * the `jitter` fraction is random. The result is a number of milliseconds,
 * not necessarily an integer, between `(1 - jitter) * ceiling` and
 * `ceiling`, and never above `maxMs`.
 *
 * @param attempt How many attempts failed so far: 1 after the first failure.
 * @param options The base delay, the cap, the jitter and the randomness.
 * @returns The delay in milliseconds.
 * @throws {TypeError} If an argument has the wrong type.
 * @throws {RangeError} If `attempt` is not a positive integer, `baseMs` is
 * not a finite non-negative number, `maxMs` is not finite or below `baseMs`,
 * `jitter` is outside [0, 1], or `random` returns a value outside [0, 1].
 *
 * @example Usage
 * ```ts
 * import { backoffDelay } from "./backoff.ts";
 * import assert from "node:assert/strict";
 *
 * const options = { baseMs: 200, maxMs: 30_000, jitter: 0.5, random: () => 0 };
 * assert.equal(backoffDelay(1, options), 200);
 * assert.equal(backoffDelay(2, options), 400);
 * assert.equal(backoffDelay(3, { ...options, random: () => 1 }), 400); // 800 halved
 * assert.equal(backoffDelay(20, options), 30_000);
 *
 * const delay = backoffDelay(3, { baseMs: 200, maxMs: 30_000 }); // full jitter
 * assert.ok(delay >= 0 && delay <= 800);
 * ```
 */
export function backoffDelay(attempt: number, options: BackoffOptions): number {
  if (typeof attempt !== "number") {
    throw new TypeError(
      `Cannot ${ACTION} as 'attempt' must be a positive integer: current value is ${
        describe(attempt)
      }`,
    );
  }
  if (!Number.isInteger(attempt) || attempt < 1) {
    throw new RangeError(
      `Cannot ${ACTION} as 'attempt' must be a positive integer: current value is ${attempt}`,
    );
  }
  if (typeof options !== "object" || options === null) {
    throw new TypeError(
      `Cannot ${ACTION} as 'options' must be an object: current value is ${describe(options)}`,
    );
  }
  const { baseMs, maxMs, jitter = 1, random = Math.random } = options;
  checkNumber(baseMs, "baseMs");
  if (!Number.isFinite(baseMs) || baseMs < 0) {
    throw new RangeError(
      `Cannot ${ACTION} as 'baseMs' must be a finite non-negative number: current value is ${baseMs}`,
    );
  }
  checkNumber(maxMs, "maxMs");
  if (!Number.isFinite(maxMs) || !(maxMs >= baseMs)) {
    throw new RangeError(
      `Cannot ${ACTION} as 'maxMs' must be a finite number not below 'baseMs' (${baseMs}): current value is ${maxMs}`,
    );
  }
  checkNumber(jitter, "jitter");
  if (!(jitter >= 0 && jitter <= 1)) {
    throw new RangeError(
      `Cannot ${ACTION} as 'jitter' must be a number from 0 to 1: current value is ${jitter}`,
    );
  }
  if (typeof random !== "function") {
    throw new TypeError(
      `Cannot ${ACTION} as 'random' must be a function: current value is ${describe(random)}`,
    );
  }

  // 2 ** (attempt - 1) overflows to Infinity for large attempts; the cap applies
  // before that can reach the result, and a zero base stays zero.
  const ceiling = baseMs === 0 ? 0 : Math.min(maxMs, baseMs * 2 ** (attempt - 1));
  if (jitter === 0) return ceiling;
  const sample = random();
  if (typeof sample !== "number" || !(sample >= 0 && sample <= 1)) {
    throw new RangeError(
      `Cannot ${ACTION} as 'random' must return a number from 0 to 1: current value is ${
        describe(sample)
      }`,
    );
  }
  return ceiling * (1 - jitter * sample);
}

function checkNumber(value: unknown, name: string): asserts value is number {
  if (typeof value !== "number") {
    throw new TypeError(
      `Cannot ${ACTION} as '${name}' must be a number: current value is ${describe(value)}`,
    );
  }
}

function describe(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value);
  if (typeof value === "bigint") return `${value}n`;
  if (typeof value === "function") return "a function";
  if (typeof value === "object" && value !== null) return Object.prototype.toString.call(value);
  return String(value);
}

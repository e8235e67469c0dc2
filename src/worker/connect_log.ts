/**
 * Logging while a worker cannot reach Kafka: say what is wrong once, then
 * again only at a slow pace, and keep the client's own per-attempt warnings
 * out of the log meanwhile.
 *
 * @module
 */
import type { LogFields, Logger } from "../log.ts";

/** How often a problem that persists is logged again, ms. */
export const REPEAT_PROBLEM_MS = 60_000;

/**
 * Decides whether a problem is worth a log line: the first time, when it
 * changes, and then once every `repeatMs`.
 *
 * @example
 * ```ts
 * const pace = new ProblemPace();
 * if (pace.shouldLog("topic `orders` does not exist", Date.now())) log.warn(...);
 * ```
 */
export class ProblemPace {
  #last: string | null = null;
  #at = 0;
  readonly #repeatMs: number;

  constructor({ repeatMs = REPEAT_PROBLEM_MS }: { repeatMs?: number } = {}) {
    this.#repeatMs = repeatMs;
  }

  /** Whether `problem`, seen at `now` (ms), should be logged. */
  shouldLog(problem: string, now: number): boolean {
    if (problem === this.#last && now - this.#at < this.#repeatMs) return false;
    this.#last = problem;
    this.#at = now;
    return true;
  }

  /** The problem is over: the next one is logged at once. */
  clear(): void {
    this.#last = null;
  }
}

/**
 * A logger that turns the Kafka client's warnings (`kafkajs: …`) into debug
 * records while `quiet()` is true: every failed attempt would otherwise log
 * twice, and the worker says what is wrong itself.
 */
export function quietClientWarnings(log: Logger, quiet: () => boolean): Logger {
  const wrap = (inner: Logger): Logger => ({
    debug: (m: string, f?: LogFields) => inner.debug(m, f),
    info: (m: string, f?: LogFields) => inner.info(m, f),
    warn: (m: string, f?: LogFields) =>
      quiet() && m.startsWith("kafkajs: ") ? inner.debug(m, f) : inner.warn(m, f),
    error: (m: string, f?: LogFields) =>
      quiet() && m.startsWith("kafkajs: ") ? inner.debug(m, f) : inner.error(m, f),
    child: (fields: LogFields) => wrap(inner.child(fields)),
  });
  return wrap(log);
}

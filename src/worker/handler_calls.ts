/**
 * Calling the handler: one call, then retries with backoff while it throws;
 * and how long the call in progress has been running, for the heartbeat.
 *
 * @module
 */
import type { ConsumerConfig } from "../config/types.ts";
import { errorFields, type Logger } from "../log.ts";
import { backoffDelay } from "../backoff.ts";
import type { Message } from "../message.ts";
import { sleep } from "./sleep.ts";

/** Options for {@linkcode HandlerCalls}. */
export interface HandlerCallsOptions {
  retry: ConsumerConfig["retry"];
  /** Aborted on shutdown: no more retries. */
  signal: AbortSignal;
  /** False when no new attempt may start (the batch ended: rebalance, seek); default: always true. */
  active?: () => boolean;
  log: Logger;
  /** Counts failed calls and retries for metrics. */
  stats?: { handlerError(): void; retry(): void };
}

/**
 * Runs handler calls with the consumer's retry policy and keeps what the
 * heartbeat needs to report a stuck handler.
 *
 * @example
 * ```ts
 * const calls = new HandlerCalls({ retry: consumer.retry, signal, log });
 * const error = await calls.run(() => handle(message, ctx), message); // null on success
 * ```
 */
export class HandlerCalls {
  readonly #options: HandlerCallsOptions;
  #running = false;
  /** Calls started so far: a sample that sees the same number twice sees one long call. */
  #started = 0;
  #sampledCall = -1;
  #sampledSince = 0;

  constructor(options: HandlerCallsOptions) {
    this.#options = options;
  }

  /** Calls `fn`, and again per the retry policy while it throws. Resolves to null on success, else the last error. */
  async run(fn: () => unknown, first: Message): Promise<unknown> {
    return await (this.call(fn, undefined, first) ?? null);
  }

  /**
   * The hot path of {@linkcode run}: calls `fn(arg)` and returns null at
   * once when it returns without throwing and without a promise (no promise
   * is created for a synchronous handler); otherwise a promise of what `run`
   * resolves to.
   */
  call<A>(fn: (arg: A) => unknown, arg: A, first: Message): Promise<unknown> | null {
    let result: unknown;
    try {
      result = this.start(fn, arg);
    } catch (error) {
      return this.failed(fn, arg, first, error);
    }
    if (!isThenable(result)) {
      this.done();
      return null;
    }
    return Promise.resolve(result).then(
      () => {
        this.done();
        return null;
      },
      (error: unknown) => this.failed(fn, arg, first, error),
    );
  }

  /**
   * The first attempt of a call, for a caller that awaits the handler's own
   * promise (one await per message, no promise of its own): returns what
   * `fn(arg)` returned, or throws what it threw. Follow it with
   * {@linkcode done} once it returned (or its promise fulfilled), or with
   * {@linkcode failed} once it threw (or its promise rejected).
   */
  start<A>(fn: (arg: A) => unknown, arg: A): unknown {
    this.#running = true;
    this.#started++;
    return fn(arg);
  }

  /** The attempt begun by {@linkcode start} succeeded. */
  done(): void {
    this.#running = false;
  }

  /**
   * The attempt begun by {@linkcode start} failed with `error`: retries per
   * the policy. Resolves to null once an attempt succeeded, else to the last
   * error.
   */
  failed<A>(fn: (arg: A) => unknown, arg: A, first: Message, error: unknown): Promise<unknown> {
    this.#running = false;
    this.#options.stats?.handlerError();
    return this.#retry(() => fn(arg), first, asFailure(error));
  }

  /**
   * How long the call in progress has been running as seen by periodic
   * samples (at most one sampling interval short), or null when idle.
   */
  busyMs(now: number): number | null {
    if (!this.#running) return null;
    if (this.#sampledCall !== this.#started) {
      this.#sampledCall = this.#started;
      this.#sampledSince = now;
    }
    return now - this.#sampledSince;
  }

  async #attempt(fn: () => unknown): Promise<void> {
    this.#running = true;
    this.#started++;
    try {
      await fn();
    } finally {
      this.#running = false;
    }
  }

  async #retry(fn: () => unknown, first: Message, error: unknown): Promise<unknown> {
    // Retries are the slow path: an awaited attempt each.
    const { retry, signal, log } = this.#options;
    const active = this.#options.active ?? (() => true);
    for (let attempt = 1; !signal.aborted && active(); attempt++) {
      const delay = retryDelay(retry, attempt);
      if (delay === null) break;
      logRetry(log, first, attempt, delay, error);
      await sleep(delay, signal);
      // Stopping, or the batch ended, while waiting: no new attempt.
      if (signal.aborted || !active()) break;
      this.#options.stats?.retry();
      try {
        await this.#attempt(fn);
        return null;
      } catch (next) {
        this.#options.stats?.handlerError();
        error = asFailure(next);
      }
    }
    return error;
  }
}

/**
 * How long to wait before calling the handler again after its `failures`-th
 * failed call of one message (exponential backoff with 20 % jitter), or null
 * once the policy's attempts are spent.
 *
 * @example
 * ```ts
 * retryDelay({ attempts: 3, backoffMs: 200, maxBackoffMs: 30000 }, 1); // about 200
 * retryDelay({ attempts: 3, backoffMs: 200, maxBackoffMs: 30000 }, 3); // null
 * ```
 */
export function retryDelay(retry: ConsumerConfig["retry"], failures: number): number | null {
  if (failures >= retry.attempts) return null;
  return backoffDelay(failures, {
    baseMs: retry.backoffMs,
    maxMs: retry.maxBackoffMs,
    jitter: 0.2,
  });
}

/** Logs that `message`'s handler failed and is tried again after `delayMs`. */
export function logRetry(
  log: Logger,
  message: Message,
  attempt: number,
  delayMs: number,
  error: unknown,
): void {
  log.warn("handler failed; retrying", {
    partition: message.partition,
    offset: message.offset,
    attempt,
    delayMs: Math.round(delayMs),
    ...errorFields(error),
  });
}

/**
 * What a call threw, as a failure: never null (null stands for success in
 * what {@linkcode HandlerCalls.run} resolves to, so a handler that throws
 * null or undefined must not pass for one that succeeded), and never a
 * thenable (an async function returning it would adopt its value: a thrown
 * promise of null would read as success).
 */
export function asFailure(thrown: unknown): unknown {
  if (thrown === null || thrown === undefined) return new Error(`the handler threw ${thrown}`);
  if (isThenable(thrown)) return new Error("the handler threw a promise", { cause: thrown });
  return thrown;
}

/** Whether `value` is a promise or another object with a `then` method. */
export function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof value === "object" && value !== null &&
    typeof (value as { then?: unknown }).then === "function";
}

/**
 * Timing per-message handler calls for the duration histogram. On Deno,
 * reading the precise clock (`performance.now()`) costs about 0.15 µs, as
 * much as a fast handler call and its message: so while calls are fast they
 * are timed in groups, and the precise clock is read once per group.
 *
 * Each call is counted as it ends, in the first bucket; its time comes with
 * its group's. A group ends after `stride` calls, or as soon as
 * `Date.now()` (which the loop reads after every call anyway) moves on from
 * the millisecond the group began in. So every call of a group but the last
 * ended within one millisecond of the group's start. Then:
 * - a group that took at most the histogram's first bound (0.5 ms) leaves
 *   all its calls in the first bucket, as timing them one by one would;
 * - a longer group moves its last call to the bucket of the group's whole
 *   time (off by less than 1 ms), and the calls after it are timed one by
 *   one;
 * - the count is exact at every moment, and the sum once the group ended.
 *
 * The stride doubles (up to {@linkcode MAX_STRIDE}) after a group quicker
 * than a tenth of the first bound, and drops to 1 after a group over it:
 * calls slower than 0.5 ms are timed one by one, exactly.
 *
 * @module
 */
import { HANDLER_DURATION_BUCKETS } from "../protocol.ts";

/** The histogram's first bound, in ms. */
const FIRST_BOUND_MS = HANDLER_DURATION_BUCKETS[0]! * 1000;
/** A group at most this long doubles the stride. */
const QUICK_GROUP_MS = FIRST_BOUND_MS / 10;
/** The most calls timed as one group. */
export const MAX_STRIDE = 64;

/** Where timed calls go (the worker's `StatsCounter`). */
export interface CallSink {
  /** One call of one message ended: counted at once, in the first bucket. */
  handledCall(): void;
  /**
   * Calls counted by `handledCall` took `ms` together; one of them took
   * `slowestMs` (0 when none needs to leave the first bucket).
   */
  timedCalls(ms: number, slowestMs: number): void;
}

/**
 * Times the successive calls of one batch; see the module documentation.
 *
 * @example
 * ```ts
 * const timer = new CallTimer(stats, Date.now());
 * for (const message of messages) {
 *   await handle(message);
 *   timer.ended(Date.now());
 * }
 * timer.close(Date.now());
 * ```
 */
export class CallTimer {
  readonly #sink: CallSink;
  readonly #clock: () => number;
  #stride = 1;
  /** Calls ended in the open group. */
  #open = 0;
  /** The precise clock when the open group began. */
  #start: number;
  /** `Date.now()` when the open group began. */
  #startMs: number;

  /**
   * @param sink receives the timed calls.
   * @param nowMs `Date.now()`, read as the first call starts.
   * @param clock the precise clock, in ms.
   */
  constructor(sink: CallSink, nowMs: number, clock: () => number = () => performance.now()) {
    this.#sink = sink;
    this.#clock = clock;
    this.#start = clock();
    this.#startMs = nowMs;
  }

  /** A call ended without throwing; `nowMs` is `Date.now()` read after it. */
  ended(nowMs: number): void {
    this.#sink.handledCall();
    if (++this.#open < this.#stride && nowMs === this.#startMs) return;
    this.close(nowMs);
  }

  /**
   * Gives the open group's calls their time, up to now, and begins the next
   * group now. Call it before time that belongs to no call (the loop's
   * tick) and when the batch ends.
   */
  close(nowMs: number): void {
    const now = this.#clock();
    const calls = this.#open;
    if (calls > 0) {
      const ms = now - this.#start;
      this.#sink.timedCalls(ms, calls === 1 || ms > FIRST_BOUND_MS ? ms : 0);
      if (ms <= QUICK_GROUP_MS) this.#stride = Math.min(this.#stride * 2, MAX_STRIDE);
      else if (ms > FIRST_BOUND_MS) this.#stride = 1;
    }
    this.#begin(now, nowMs);
  }

  /**
   * Begins the next group now, leaving out the time since the open group
   * began: after {@linkcode close} (a tick), or after a call that failed
   * for good, whose time is no handled call's (the open group's calls, all
   * ended within the millisecond it began in, keep their count and lose
   * under 1 ms of the sum).
   */
  restart(nowMs: number): void {
    this.#begin(this.#clock(), nowMs);
  }

  #begin(now: number, nowMs: number): void {
    this.#open = 0;
    this.#start = now;
    this.#startMs = nowMs;
  }
}

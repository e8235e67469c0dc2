/**
 * Letting the worker's event loop turn while handlers run: the worker's
 * heartbeat and report timers, the client library's own timers (the
 * platformatic engine's group heartbeat) and the answers to its requests
 * run only when the thread goes back to its event loop. A handler that
 * never awaits, or awaits only settled promises, never goes back there by
 * itself: a long batch of such calls would starve them all.
 *
 * @module
 */

/**
 * Resolves in a later turn of the event loop, after the timers that were
 * due ran and finished I/O was taken in. A timer: a resolved promise or
 * `queueMicrotask` runs before the loop turns, and Deno (2.9) runs
 * `setImmediate` callbacks without taking in I/O.
 *
 * @example
 * ```ts
 * import { nextTurn } from "./event_loop.ts";
 * let fired = false;
 * setTimeout(() => (fired = true), 0);
 * await nextTurn();
 * console.assert(fired);
 * ```
 */
export function nextTurn(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

/**
 * Lets the event loop turn at most once every `everyMs` of work that may
 * never yield by itself: the worker's batches ask {@linkcode TurnPacer.due}
 * after every handler call, and one pacer serves all of them, so that its
 * clock runs on across batches and fetch rounds (a round of many short
 * batches turns as often as one long batch). A turn waits about a
 * millisecond (Bun) or two (Deno) for its timer, so pacing it to once a
 * second keeps that off the fast path.
 *
 * @example
 * ```ts
 * import { TurnPacer } from "./event_loop.ts";
 * const turns = new TurnPacer(1000);
 * for (const message of messages) {
 *   handle(message); // synchronous
 *   const now = Date.now();
 *   if (turns.due(now)) await turns.turn(now); // the event loop turns about once a second
 * }
 * ```
 */
export class TurnPacer {
  readonly #everyMs: number;
  #last: number;

  constructor(everyMs: number, now: number = Date.now()) {
    if (!(everyMs >= 0)) {
      throw new RangeError(
        `Cannot pace event loop turns as 'everyMs' must be non-negative: current value is ${everyMs}`,
      );
    }
    this.#everyMs = everyMs;
    this.#last = now;
  }

  /** Whether {@linkcode TurnPacer.turn} would let the loop turn at `now` (cheap: no promise). */
  due(now: number): boolean {
    return now - this.#last >= this.#everyMs;
  }

  /**
   * Lets the event loop turn when `everyMs` passed since the last turn this
   * pacer was asked for (`now` as the caller's clock read it); otherwise
   * returns at once. A caller that asks once every `everyMs` or more, by
   * the same clock, gets a turn each time.
   */
  async turn(now: number): Promise<void> {
    if (!this.due(now)) return;
    this.#last = now;
    await nextTurn();
  }
}

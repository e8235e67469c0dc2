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
 * never yield by itself: the worker's batches call {@linkcode TurnPacer.turn}
 * once a tick, and one pacer serves all of them, so that batches handled one
 * after another in the same fetch round share its clock. A turn waits about
 * a millisecond (Bun) or two (Deno) for its timer, so pacing it to once a
 * second keeps that off the fast path.
 *
 * @example
 * ```ts
 * import { TurnPacer } from "./event_loop.ts";
 * const turns = new TurnPacer(1000);
 * for (const message of messages) {
 *   handle(message); // synchronous
 *   await turns.turn(Date.now()); // the event loop turns about once a second
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

  /**
   * Lets the event loop turn when `everyMs` passed since the last turn this
   * pacer was asked for (`now` as the caller's clock read it); otherwise
   * returns at once. A caller that asks once every `everyMs` or more, by
   * the same clock, gets a turn each time.
   */
  async turn(now: number): Promise<void> {
    if (now - this.#last < this.#everyMs) return;
    this.#last = now;
    await nextTurn();
  }
}

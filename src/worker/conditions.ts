/**
 * Waiting for a condition on state that changes by events: a waiter is
 * checked whenever the owner says something changed, and on a timer for
 * what changes without telling (a batch that stopped being active).
 *
 * @module
 */

/**
 * Conditions waited on, checked at every {@linkcode Conditions.check} and
 * every `everyMs`.
 *
 * @example
 * ```ts
 * const conditions = new Conditions(1000);
 * let free = 0;
 * const room = conditions.until(() => free > 0);
 * free = 1;
 * conditions.check(); // room resolves
 * await room;
 * ```
 */
export class Conditions {
  readonly #everyMs: number;
  readonly #waiters = new Set<{ done: () => boolean; resolve: () => void }>();

  constructor(everyMs: number) {
    if (!(everyMs > 0)) {
      throw new RangeError(
        `Cannot wait on conditions as 'everyMs' must be positive: current value is ${everyMs}`,
      );
    }
    this.#everyMs = everyMs;
  }

  /** Resolves once `done()` holds (at once when it does now). */
  until(done: () => boolean): Promise<void> {
    if (done()) return Promise.resolve();
    return new Promise((resolve) => {
      const waiter = {
        done,
        resolve: () => {
          clearInterval(timer);
          this.#waiters.delete(waiter);
          resolve();
        },
      };
      const timer = setInterval(() => {
        if (done()) waiter.resolve();
      }, this.#everyMs);
      this.#waiters.add(waiter);
    });
  }

  /** Something changed: resolves every waiter whose condition now holds. */
  check(): void {
    for (const waiter of this.#waiters) if (waiter.done()) waiter.resolve();
  }
}

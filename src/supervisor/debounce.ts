/**
 * Turns a burst of calls into one: the action runs once the calls have
 * stopped for `quietMs`, or at the latest `maxWaitMs` after the first call
 * of the burst (so that a file written continuously still gets checked).
 *
 * @module
 */

/** Options for {@linkcode Debouncer}. */
export interface DebouncerOptions {
  /** How long calls must stop before the action runs, ms. */
  quietMs: number;
  /** Longest delay after the first call of a burst, ms (default 10 × quietMs, at least 1000). */
  maxWaitMs?: number;
}

/**
 * Debounces an action.
 *
 * @example
 * ```ts
 * const debounced = new Debouncer(() => console.log("once"), { quietMs: 300 });
 * debounced.poke(); debounced.poke(); // logs "once" 300 ms after the second poke
 * ```
 */
export class Debouncer {
  readonly #action: () => void;
  readonly #quietMs: number;
  readonly #maxWaitMs: number;
  #timer: ReturnType<typeof setTimeout> | null = null;
  #firstAt = 0;

  constructor(action: () => void, { quietMs, maxWaitMs }: DebouncerOptions) {
    if (!Number.isFinite(quietMs) || quietMs < 0) {
      throw new RangeError(
        `Cannot debounce as 'quietMs' must be a number >= 0: current value is ${quietMs}`,
      );
    }
    this.#action = action;
    this.#quietMs = quietMs;
    this.#maxWaitMs = maxWaitMs ?? Math.max(1000, 10 * quietMs);
  }

  /** Records a call: (re)starts the quiet period. */
  poke(): void {
    const now = performance.now();
    if (this.#timer === null) this.#firstAt = now;
    else clearTimeout(this.#timer);
    const wait = Math.min(this.#quietMs, Math.max(0, this.#firstAt + this.#maxWaitMs - now));
    this.#timer = setTimeout(() => {
      this.#timer = null;
      this.#action();
    }, wait);
  }

  /** Forgets a pending call. */
  cancel(): void {
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
  }
}

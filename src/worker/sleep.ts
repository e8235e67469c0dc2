/**
 * An abortable delay.
 *
 * @module
 */

/**
 * Resolves after `ms`, or at once when `signal` aborts (it never rejects).
 * Its abort listener is removed when the time passes: a long-lived signal
 * (the worker's, shared by every retry) holds only the sleeps under way.
 *
 * @example
 * ```ts
 * await sleep(1000, controller.signal);
 * ```
 */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal === undefined) {
      setTimeout(resolve, ms);
      return;
    }
    if (signal.aborted) return resolve();
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", aborted);
      resolve();
    }, ms);
    const aborted = () => {
      clearTimeout(timer);
      resolve();
    };
    signal.addEventListener("abort", aborted, { once: true });
  });
}

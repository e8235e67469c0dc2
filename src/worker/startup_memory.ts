/**
 * A worker hands back what its start left behind. Starting a worker
 * (its isolate, the bundle's modules, the client, the join) leaves garbage
 * and a young generation grown to hold it; a worker that then waits for
 * messages keeps both until the runtime's own memory reducer comes round
 * (on Deno about 30 s after the isolate started). Once the worker has
 * started and its handler has stayed idle for a check interval, one
 * collection that shrinks the heap returns it at once: on Deno about 5 MiB
 * per platformatic worker and 2 MiB per kafkajs worker (see
 * docs/performance.md). A worker busy from its start keeps its heap: it is
 * in use, and the runtime's reducer runs in its next idle spell.
 *
 * On Deno the collection needs V8's `gc` (the daemon's command lines pass
 * `--v8-flags=--expose-gc`); without it nothing is done. The worker entries
 * take `gc` off the global object (`takeCollect` in src/runtime/collect.ts)
 * before any handler code loads (V8 does not let it be deleted: it stays
 * undefined),
 * and no module keeps it where a handler could import it. A handler that
 * makes a realm or a worker of its own (`node:vm`, `new Worker`) gets V8's
 * `gc` there: it collects the handler's own isolate, no more than a handler
 * could do to its own worker by allocating. On Bun it is `Bun.gc(true)`.
 *
 * @module
 */

import type { Collect } from "../runtime/collect.ts";

export type { Collect };

/** Options of {@linkcode releaseStartupMemory}. */
export interface ReleaseOptions {
  /** The collection (`takeCollect`'s); null: nothing is scheduled. */
  collect: Collect | null;
  /** How long the handler must stay idle, ms (checked this often). */
  intervalMs?: number;
  /** Checks before giving up on a worker that stays busy. */
  checks?: number;
}

/**
 * Runs one heap-shrinking collection once `progress()` (messages handled so
 * far, or -1 while calls run) has not moved for `intervalMs`; gives up
 * after `checks` checks. Returns a function that cancels it.
 *
 * @example
 * ```ts ignore
 * const cancel = releaseStartupMemory(() => stats.processed, { collect: takeCollect(globalThis) });
 * ```
 */
export function releaseStartupMemory(
  progress: () => number,
  { collect, intervalMs = 1_000, checks = 30 }: ReleaseOptions,
): () => void {
  if (collect === null) return () => {};
  let last = progress();
  let left = checks;
  const timer = setInterval(() => {
    const now = progress();
    const idle = now !== -1 && now === last;
    last = now;
    if (idle) {
      try {
        collect();
      } catch {
        // Best effort: a runtime whose collection refuses (say, a later V8's options) must not
        // fail the worker a second after every start; its own reducer still runs later.
      }
    }
    if (idle || --left <= 0) clearInterval(timer);
  }, intervalMs);
  return () => clearInterval(timer);
}

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
 * `--v8-flags=--expose-gc`); without it nothing is done. This module takes
 * `gc` off the global object when it loads, before any handler code runs
 * (V8 does not let it be deleted: it stays, undefined), so handlers cannot
 * call it whatever the flags. On Bun it is `Bun.gc(true)`.
 *
 * @module
 */

/** A synchronous collection that returns free heap to the system. */
export type Collect = () => void;

/** V8's exposed `gc`, with the options its extension reads. */
type V8Gc = (options?: { type?: string; execution?: string; flavor?: string }) => unknown;

const runtimeCollect: Collect | null = takeCollect(globalThis as Record<string, unknown>);

/**
 * The runtime's heap-shrinking collection found on `global`, or null; on
 * V8 it takes the exposed `gc` off `global` (exported for tests).
 *
 * @example
 * ```ts
 * const global: Record<string, unknown> = { gc: () => {} };
 * takeCollect(global) !== null; // true, and global.gc is now undefined
 * ```
 */
export function takeCollect(global: Record<string, unknown>): Collect | null {
  const bun = global.Bun as { gc?: (force: boolean) => void } | undefined;
  if (typeof bun?.gc === "function") return () => bun.gc!(true);
  const gc = global.gc;
  if (typeof gc !== "function") return null;
  // V8 makes it writable but not configurable: where it cannot go, it is left undefined.
  if (!Reflect.deleteProperty(global, "gc")) global.gc = undefined;
  // "last-resort": V8's memory-reducing collection (new space shrunk, old space compacted),
  // as for a low-memory notification; a plain gc() leaves the young generation's size alone.
  return () => void (gc as V8Gc)({ type: "major", execution: "sync", flavor: "last-resort" });
}

/** Options of {@linkcode releaseStartupMemory}. */
export interface ReleaseOptions {
  /** The collection; the runtime's by default (none: nothing is scheduled). */
  collect?: Collect | null;
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
 * const cancel = releaseStartupMemory(() => stats.processed);
 * ```
 */
export function releaseStartupMemory(
  progress: () => number,
  { collect = runtimeCollect, intervalMs = 1_000, checks = 30 }: ReleaseOptions = {},
): () => void {
  if (collect === null) return () => {};
  let last = progress();
  let left = checks;
  const timer = setInterval(() => {
    const now = progress();
    const idle = now !== -1 && now === last;
    last = now;
    if (idle) collect();
    if (idle || --left <= 0) clearInterval(timer);
  }, intervalMs);
  return () => clearInterval(timer);
}

/**
 * The runtime's full collection that also hands free heap back to the
 * system, for a worker done starting (src/worker/startup_memory.ts): V8's
 * `gc`, which Deno exposes with `--v8-flags=--expose-gc`, or `Bun.gc`.
 *
 * @module
 */

/** A synchronous collection that returns free heap to the system. */
export type Collect = () => void;

/** V8's exposed `gc`, with the options its extension reads. */
type V8Gc = (options?: { type?: string; execution?: string; flavor?: string }) => unknown;

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

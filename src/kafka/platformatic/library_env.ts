/**
 * The environment @platformatic/kafka sees: a view that lists nothing and
 * reads only what may be read.
 *
 * Its `debug` dependency lists every environment variable when it loads; a
 * worker may read only the variables its consumer was granted, so listing
 * them throws. From its package, the library sees such a view while it loads
 * (library.ts puts it in place of `process.env`, and the real object back
 * before any handler runs). In the worker bundle the library sees it always:
 * it gets a stand-in for `process` whose `env` is such a view
 * (src/worker/platformatic_builtins.ts; the build points the library's
 * `process` at it), and the real `process` is left alone.
 *
 * @module
 */

/**
 * Whether the library's `process` is the worker bundle's stand-in, whose
 * `env` is already a {@linkcode readOnlyEnv}: false as written, true in the
 * worker bundle, whose build sets it where it gives the library the
 * stand-in (scripts/build.ts, `libraryProcess`).
 */
export const LIBRARY_PROCESS_IS_STAND_IN: boolean = false;

/**
 * An environment object that lists nothing, reads each variable through
 * `read` (undefined when that throws), and ignores writes and deletions.
 *
 * @example
 * ```ts
 * const env = readOnlyEnv((name) => (name === "DEBUG" ? "plt:*" : undefined));
 * env.DEBUG; // "plt:*"
 * Object.keys(env); // []
 * ```
 */
export function readOnlyEnv(read: (name: string) => string | undefined): NodeJS.ProcessEnv {
  const get = (name: string | symbol) => {
    if (typeof name !== "string") return undefined;
    try {
      return read(name);
    } catch {
      return undefined;
    }
  };
  return new Proxy({} as NodeJS.ProcessEnv, {
    get: (_target, name) => get(name),
    has: (_target, name) => get(name) !== undefined,
    ownKeys: () => [],
    set: () => true,
    deleteProperty: () => true,
  });
}

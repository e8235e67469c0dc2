/**
 * Loads @platformatic/kafka once per thread, and checks that the installed
 * version has the internals the engine relies on.
 *
 * Three things make this more than an `import`:
 * - its `debug` dependency lists every environment variable when it is
 *   loaded; a worker may read only the variables its consumer was granted,
 *   so listing them throws. While the library loads, `process.env` is
 *   replaced by a view that lists nothing and reads only what may be read
 *   (library_env.ts); the real object is put back before any handler code
 *   runs, so handlers keep exactly the access they were granted, and get no
 *   more. (In the worker bundle the library's `process` is a stand-in with
 *   such a view, and the real one is not touched.)
 * - the library compiles dozens of option validators when it loads, of
 *   which a worker uses one: they are compiled on first use instead
 *   (lazy_validators.ts).
 * - the engine uses the consumer's connection, metadata and API lookups
 *   through the library's exported symbols, and a `ConnectionPool` of its own; {@linkcode loadPlatformatic}
 *   fails with a message naming what is missing when they are not there.
 *
 * Only files in src/kafka/ import this module, and only when a consumer
 * selects the platformatic engine: kafkajs workers never load it.
 *
 * @module
 */
import { withLazyValidators } from "./lazy_validators.ts";
import { LIBRARY_PROCESS_IS_STAND_IN, readOnlyEnv } from "./library_env.ts";

/** The @platformatic/kafka module. */
export type Platformatic = typeof import("@platformatic/kafka");

/** The version the engine was written and tested against. */
export const PLATFORMATIC_VERSION = "2.12.1";

/** Consumer methods the engine calls. */
const CONSUMER_METHODS = [
  "fetch",
  "listOffsets",
  "listCommittedOffsets",
  "findGroupCoordinator",
  "joinGroup",
  "leaveGroup",
  "close",
] as const;
/** Exported symbols of the library's internal client API the engine calls. */
const SYMBOLS = ["kGetApi", "kGetConnection", "kMetadata"] as const;

let loading: Promise<Platformatic> | null = null;

/**
 * Imports @platformatic/kafka (once) and checks its API.
 *
 * @throws {Error} When the installed version lacks an API the engine uses.
 *
 * @example
 * ```ts ignore
 * const { Consumer } = await loadPlatformatic();
 * ```
 */
export function loadPlatformatic(): Promise<Platformatic> {
  loading ??= importHidingEnvironment().then(checkApi);
  return loading;
}

async function importHidingEnvironment(): Promise<Platformatic> {
  const load = () => withLazyValidators(() => import("@platformatic/kafka"));
  // The bundle's library reads a stand-in whose env is already hidden; the real `process` is not
  // loaded for it (on Deno, loading it costs a worker ~5 ms).
  if (LIBRARY_PROCESS_IS_STAND_IN) return await load();
  const process = globalThis.process;
  const env = process.env;
  process.env = readOnlyEnv((name) => env[name]);
  try {
    return await load();
  } finally {
    process.env = env;
  }
}

/** Checks the exports and methods the engine relies on; names what is missing. */
export function checkApi(library: Platformatic): Platformatic {
  const missing: string[] = [];
  const exports = library as unknown as Record<string, unknown>;
  for (const name of SYMBOLS) {
    if (typeof exports[name] !== "symbol") missing.push(`export ${name}`);
  }
  // Fetches go on connections of their own (client.ts).
  if (typeof library.ConnectionPool !== "function") missing.push("export ConnectionPool");
  // Their Fetch responses are parsed by the engine (fetch_pool.ts).
  for (const name of ["ResponseError", "UnsupportedCompressionError"] as const) {
    if (typeof library[name] !== "function") missing.push(`export ${name}`);
  }
  if (typeof library.compressionsAlgorithmsByBitmask !== "object") {
    missing.push("export compressionsAlgorithmsByBitmask");
  }
  const consumer = typeof library.Consumer === "function" ? library.Consumer.prototype : null;
  if (consumer === null) missing.push("export Consumer");
  else {
    for (const name of CONSUMER_METHODS) {
      if (typeof (consumer as unknown as Record<string, unknown>)[name] !== "function") {
        missing.push(`Consumer.${name}()`);
      }
    }
    for (const symbol of SYMBOLS) {
      const key = exports[symbol];
      if (typeof key === "symbol" && typeof Reflect.get(consumer, key) !== "function") {
        missing.push(`Consumer[${symbol}]()`);
      }
    }
  }
  if (missing.length > 0) {
    const found = typeof exports.version === "string" ? exports.version : "unknown";
    throw new Error(
      `Cannot use the platformatic engine: the installed @platformatic/kafka (version ${found}) lacks ${
        [...new Set(missing)].join(", ")
      }; the engine needs @platformatic/kafka ${PLATFORMATIC_VERSION}`,
    );
  }
  return library;
}

/**
 * What the worker bundle's copy of @platformatic/kafka gets for its imports
 * of `node:crypto` and `node:module` (scripts/build.ts rewires them to this
 * module): the same functions, each loading its built-in module when first
 * called; and for its `debug` dependency's test of whether stderr is a
 * terminal ({@linkcode stderrIsTerminal}). Deno loads a Node built-in, with
 * the compatibility modules behind it, when it is imported: node:crypto and
 * node:module were about a quarter of the library's load in a worker, for
 * functions a consumer calls only to
 * sign in with SCRAM (`createHash`, `createHmac`, `pbkdf2`, `randomBytes`),
 * to join a group with the consumer protocol or create a producer (each
 * gets a random transactional id when it has none: a worker with `outputs:`
 * loads node:crypto when it starts; `randomUUID`), or to try an optional
 * package (`createRequire`, whose `require` has no `resolve`: the library
 * only calls it).
 *
 * @module
 */
import type * as Crypto from "node:crypto";
import type * as NodeModule from "node:module";
import type * as Stream from "node:stream";
import type * as Tty from "node:tty";
import type * as Zlib from "node:zlib";
import { lazyBaseClass, lazyBuiltin } from "./bundle_require.ts";

const crypto = lazyBuiltin("crypto") as typeof Crypto;

export const { createHash, createHmac, pbkdf2, randomBytes, randomUUID } = crypto;

const nodeModule = lazyBuiltin("module") as typeof NodeModule;

/**
 * For `node:module`'s `createRequire`: a `require` that makes the real one
 * on its first call (the library makes one when its schema registry module
 * loads). Called through `.call`: the build refuses the text
 * `createRequire(` outside the bundler's own prelude.
 */
export function requireOnFirstUse(path: string | URL): (id: string) => unknown {
  let real: ((id: string) => unknown) | null = null;
  return (id) => (real ??= nodeModule.createRequire.call(nodeModule, path))(id);
}

const tty = lazyBuiltin("tty") as typeof Tty;

/**
 * Whether the process's stderr is a terminal: what `debug` asks when each
 * of the library's loggers is made (to colour its output), as
 * `tty.isatty(process.stderr.fd)` does. On Deno, reading `process.stderr`
 * makes node's stream for it and loads `node:tty` and `node:net` (~0.45 MiB
 * and a fifth of the library's load in a worker); `Deno.stderr` answers
 * without them.
 */
export function stderrIsTerminal(): boolean {
  if ("Deno" in globalThis) return Deno.stderr.isTerminal();
  return tty.isatty(
    (globalThis as unknown as { process: { stderr: { fd: number } } }).process.stderr.fd,
  );
}

/**
 * For the library's `import zlib from "node:zlib"`: a stand-in whose
 * functions (the library takes `gzip`, `gzipSync`, `gunzipSync`,
 * `zstdCompressSync` and `zstdDecompressSync` when it loads) load node:zlib
 * when first called, for a gzip or zstd batch. The library's own test of
 * whether the runtime has zstd sees a function either way: on a runtime
 * without it, a zstd batch fails with a TypeError instead of the library's
 * UnsupportedCompressionError (Deno and Bun both have it).
 */
export const zlib = lazyBuiltin("zlib") as typeof Zlib;

/**
 * For the library's `import { Readable, Writable } from "node:stream"`: the
 * library extends them, when it loads, for its message stream and producer
 * stream, which a worker never makes (the engine reads Fetch responses and
 * produces without them); node:stream loads if one is made.
 */
export const Readable = lazyBaseClass("stream", "Readable") as typeof Stream.Readable;
/** See {@linkcode Readable}. */
export const Writable = lazyBaseClass("stream", "Writable") as typeof Stream.Writable;

/**
 * For the library's `createAPI`, which gives each of its ~260 protocol API
 * functions a promise form when it loads (`api.async = promisify(api)`;
 * neither the library nor the engine calls one): defines `api[key]` as
 * `promisify(api)`, made when first read (then an ordinary property, as
 * the assignment made it). Making them all took a worker 1.5–2 ms at start.
 *
 * `promisify` copies the function's own properties onto its promise form:
 * those `api` gains after this call (`key` and `version`, and the accessor
 * itself) are taken off it again, so that it has what it would have had.
 * Unlike the assignment, the first read fails on an `api` frozen meanwhile
 * (the library freezes none).
 */
export function promisifyOnFirstRead(
  api: (...args: never[]) => unknown,
  key: string,
  promisify: (fn: (...args: never[]) => unknown) => unknown,
): void {
  const ownBefore = Reflect.ownKeys(api);
  const settle = (value: unknown) =>
    Object.defineProperty(api, key, {
      value,
      writable: true,
      enumerable: true,
      configurable: true,
    });
  Object.defineProperty(api, key, {
    configurable: true,
    enumerable: true,
    get() {
      const value = promisify(api) as object;
      for (const name of Reflect.ownKeys(api)) {
        if (!ownBefore.includes(name)) Reflect.deleteProperty(value, name);
      }
      settle(value);
      return value;
    },
    set: settle,
  });
}

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
 * only calls it). And for its uses of the global `process`, a stand-in that
 * does not load node:process on Deno ({@linkcode libraryProcess}).
 *
 * @module
 */
import type * as Crypto from "node:crypto";
import type * as Fs from "node:fs";
import type * as NodeModule from "node:module";
import type * as Stream from "node:stream";
import type * as Tty from "node:tty";
import nodeUtil from "node:util";
import type * as Zlib from "node:zlib";
import { readOnlyEnv } from "../kafka/platformatic/library_env.ts";
import { lazyBaseClass, lazyBuiltin } from "./bundle_require.ts";

const crypto = lazyBuiltin("crypto") as typeof Crypto;

export const { createHash, createHmac, pbkdf2, randomBytes, randomUUID } = crypto;

const nodeModule = lazyBuiltin("module") as typeof NodeModule;

/**
 * For `node:module`'s `createRequire`: a `require` that makes the real one
 * on its first call (the library makes one when its CRC-32C module loads,
 * to try the native `@node-rs/crc32`). Called through `.call`: the build refuses the text
 * `createRequire(` outside the bundler's own prelude.
 */
export function requireOnFirstUse(path: string | URL): (id: string) => unknown {
  let real: ((id: string) => unknown) | null = null;
  return (id) => (real ??= nodeModule.createRequire.call(nodeModule, path))(id);
}

const tty = lazyBuiltin("tty") as typeof Tty;
const fs = lazyBuiltin("fs") as typeof Fs;
/** `process.stderr.fd`, on node and Bun. */
const STDERR_FD = 2;

/**
 * Whether the process's stderr is a terminal: what `debug` asks when each
 * of the library's loggers is made (to colour its output), as
 * `tty.isatty(process.stderr.fd)` does. On Deno, reading `process.stderr`
 * makes node's stream for it and loads `node:tty` and `node:net` (~0.45 MiB
 * and a fifth of the library's load in a worker); `Deno.stderr` answers
 * without them. On Bun, `fstat` answers for anything but a character device
 * (the rest, a terminal or not, `tty.isatty` answers).
 */
export function stderrIsTerminal(): boolean {
  if ("Deno" in globalThis) return Deno.stderr.isTerminal();
  // A terminal is a character device: for a pipe or a file (a container's stderr) the answer
  // comes without node:tty, whose loading (it loads node's streams) costs a Bun worker ~5 ms.
  try {
    return fs.fstatSync(STDERR_FD).isCharacterDevice() && tty.isatty(STDERR_FD);
  } catch {
    return false; // no stderr: not a terminal, as tty.isatty answers for a closed descriptor
  }
}

/**
 * For the library's `import { inspect } from "node:util"` (its protocol
 * dump, when enabled, calls it): node:util's `inspect`, looked up when
 * first called. Bun makes `inspect` when it is first read, and an import of
 * it by name reads it when the library loads: ~1.5 ms of a Bun worker's
 * start.
 */
export function inspect(...args: unknown[]): string {
  return (nodeUtil.inspect as (...args: unknown[]) => string)(...args);
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

/** What the library uses of `process` (the build checks that it reads no other member). */
export interface LibraryProcess {
  /** A {@linkcode readOnlyEnv}: `debug` lists it and reads `DEBUG` when it loads. */
  env: NodeJS.ProcessEnv;
  /** `process.nextTick`: the library defers callbacks with it (once per group join, in a consumer). */
  nextTick(callback: (...args: never[]) => unknown, ...args: unknown[]): void;
  /** The library warns through it when an experimental API is used. */
  emitWarning(...args: unknown[]): void;
  /** `debug` writes to it, when its output is enabled. */
  readonly stderr: unknown;
}

/** The runtime's own `process` (on Deno, reading it first loads node:process). */
function realProcess(): typeof globalThis.process {
  return globalThis.process;
}

/**
 * For the library's uses of the global `process` (the build points them at
 * this object): `env` a {@linkcode readOnlyEnv} of the variables the worker
 * was granted, the rest the runtime's own, except `nextTick` on Deno. There,
 * reading the global `process` loads node:process and node's streams behind
 * it, ~5 ms of a worker's start, for `nextTick`, which every group join
 * calls: it is {@linkcode timerTicks}' instead, and `emitWarning` and
 * `stderr` load node:process when first used.
 */
export const libraryProcess: LibraryProcess = {
  env: readOnlyEnv(
    "Deno" in globalThis ? grantedVariable : (variable) => realProcess().env[variable],
  ),
  nextTick: "Deno" in globalThis
    ? timerTicks()
    : (callback, ...args) => realProcess().nextTick(callback, ...args),
  emitWarning: (...args) => (realProcess().emitWarning as (...args: unknown[]) => void)(...args),
  get stderr() {
    return realProcess().stderr;
  },
};

/**
 * An environment variable on Deno, read only when `Deno.permissions` says it
 * may be: a refused read makes an error, and an error made while the library
 * loads costs ~25 ms of a worker's start.
 */
function grantedVariable(variable: string): string | undefined {
  return Deno.permissions.querySync({ name: "env", variable }).state === "granted"
    ? Deno.env.get(variable)
    : undefined;
}

/**
 * A `process.nextTick` without node:process: the first callback queued
 * schedules a zero-delay timer that runs the queue in order, and the
 * callbacks those queue run in the same turn, before the promise reactions
 * they cause (as node runs its tick queue before the microtasks it queued).
 * Like Deno's own, a callback queued during a task runs once that task and
 * all its microtasks are done: after whatever the current code started, a
 * request it writes for instance. Unlike it, I/O and timers already due may
 * come first. A callback that throws reports its error as an uncaught one
 * would; the callbacks after it run in the next turn.
 *
 * @example
 * ```ts
 * const nextTick = timerTicks();
 * const order: string[] = [];
 * nextTick(() => order.push("tick"));
 * await Promise.resolve().then(() => order.push("reaction"));
 * await new Promise((resolve) => setTimeout(resolve, 0));
 * order; // ["reaction", "tick"]
 * ```
 */
export function timerTicks(): LibraryProcess["nextTick"] {
  const queue: (() => void)[] = [];
  let next = 0;
  const run = () => {
    try {
      while (next < queue.length) queue[next++]!();
    } finally {
      if (next < queue.length) setTimeout(run, 0);
      else {
        queue.length = 0;
        next = 0;
      }
    }
  };
  return (callback, ...args) => {
    if (typeof callback !== "function") {
      throw new TypeError(`nextTick: the callback must be a function, not ${typeof callback}`);
    }
    if (queue.length === 0) setTimeout(run, 0);
    queue.push(() => callback(...(args as never[])));
  };
}

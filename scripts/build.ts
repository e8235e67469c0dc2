/**
 * `deno task build`: bundles the worker entry (`src/worker/entry.ts`), our
 * code, kafkajs and @platformatic/kafka with its dependencies into ES
 * modules under `dist/worker/` with Bun's bundler (the library without what
 * a worker never runs: `scripts/worker_library.ts`), and writes the manifest
 * the supervisor checks before it uses them (`src/supervisor/worker_bundle.ts`).
 * Each engine's code is a chunk of its own, loaded only by workers that use
 * it. The library's imports of @platformatic/wasm-utils go to
 * `src/worker/platformatic_wasm.ts` ({@linkcode libraryWasmImports}), which
 * compiles the package's WebAssembly file on first use, and so does the
 * library's choice of CRC-32C ({@linkcode lazyCrc32c}). ajv is a chunk of its own that only a
 * dynamic import loads, on demand ({@linkcode ajvLoadedAtStart}; the library's ajv is a stand-in:
 * `src/kafka/platformatic/lazy_ajv.ts`).
 *
 * The bundler gives CommonJS code (kafkajs) a `require` from `node:module`,
 * and kafkajs reads its settings from the global `process`: on Deno either
 * loads much of the Node compatibility layer into every worker. After
 * bundling, {@linkcode rewireChunk} points both at
 * `src/worker/bundle_require.ts` (bundled as `bundle_require.js`). The
 * bundler gives @platformatic/kafka's chunk the same `require` (from the
 * shared helpers' chunk): it hands its CommonJS dependencies the built-in
 * modules themselves (they extend streams), except kafkajs's five load-time
 * ones, which are stand-ins until first used (the library only calls
 * them); that chunk is not checked against kafkajs's list. Its `node:net`
 * and `node:tls` imports go to `src/worker/platformatic_net.ts`
 * ({@linkcode libraryNetImports}). Chunks
 * load one another on demand ({@linkcode deferChunkImports}), and their
 * CommonJS modules compile with their chunk, into the runtime's code cache
 * ({@linkcode eagerFactories}); then every chunk but kafkajs's is minified
 * ({@linkcode minifiedChunk}).
 *
 * @module
 */
import { existsSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import nodeZlib from "node:zlib";
import {
  BUNDLE_DIR,
  type BundleManifest,
  fileDigest,
  MANIFEST_FILE,
} from "../src/supervisor/worker_bundle.ts";
import type { BundleRequest } from "./bun_bundle.ts";
import { BUN, runBun } from "./compile.ts";

const ROOT = fileURLToPath(new URL("../", import.meta.url));

/**
 * Builds the bundle into `packageDir/dist/worker` and returns its manifest;
 * throws with Bun's output when the build fails.
 *
 * @example
 * ```ts ignore
 * const manifest = await buildWorkerBundle(ROOT);
 * ```
 */
export async function buildWorkerBundle(packageDir: string = ROOT): Promise<BundleManifest> {
  const outdir = join(packageDir, BUNDLE_DIR);
  const tmp = `${outdir}.tmp-${Deno.pid}`;
  const metafile = join(tmp, "meta.json");
  await Deno.remove(tmp, { recursive: true }).catch(() => {});
  try {
    await bundleWorker(packageDir, tmp, metafile);
    await rewireBundle(tmp);
    await minifyChunks(tmp);
    const meta = JSON.parse(await Deno.readTextFile(metafile)) as BundleMeta;
    await Deno.remove(metafile);
    const early = ajvLoadedAtStart(meta);
    if (early.length > 0) {
      throw new Error(`bundle: ${early.join(", ")} hold ajv and load without asking for it`);
    }
    const inputs: Record<string, string> = {};
    // Besides what Bun read: the import map it resolved with, and the package whose WebAssembly
    // file platformatic_wasm.ts loads (its calls follow that version). (Not the lock file or this
    // script: the image prunes packages and drops its build scripts after building.)
    const settings = ["deno.json", ...WASM_PACKAGE_FILES];
    for (const input of [...Object.keys(meta.inputs), ...settings].sort()) {
      // Bun names inputs relative to the working directory.
      const path = relative(packageDir, join(packageDir, input));
      inputs[path] = fileDigest(join(packageDir, path));
    }
    const manifest: BundleManifest = { entry: "entry.js", inputs };
    await Deno.writeTextFile(join(tmp, MANIFEST_FILE), JSON.stringify(manifest, null, 2) + "\n");
    await Deno.remove(outdir, { recursive: true }).catch(() => {});
    await Deno.rename(tmp, outdir);
    return manifest;
  } catch (error) {
    await Deno.remove(tmp, { recursive: true }).catch(() => {});
    throw error;
  }
}

/**
 * Packages the bundle imports at run time instead of containing them.
 * @platformatic/wasm-utils holds the WebAssembly file
 * `src/worker/platformatic_wasm.ts` reads. @platformatic/dynamic-buffer: the
 * library and the codecs tell a DynamicBuffer by a symbol of that module's
 * own, so they must share one copy of it. With a copy in the bundle, the
 * WebAssembly CRC-32C (the library's when it cannot load `@node-rs/crc32`,
 * as in a Deno worker without ffi) read the library's record batches as
 * zeros, and the broker refused them as corrupt.
 */
export const EXTERNAL_PACKAGES = [
  "@platformatic/wasm-utils",
  "@platformatic/dynamic-buffer",
] as const;

/**
 * The bundler's comment before a module of @platformatic/kafka (its path, relative to where the
 * build ran: through a linked node_modules it climbs out first): its chunk is not rewired.
 */
export const PLATFORMATIC_MARKER = /\n\/\/ (?:[^\n]*\/)?node_modules\/@platformatic\/kafka\//;

/**
 * The bundle's entries, in `src/worker/`, each a file of its own name: the
 * worker entry, the modules the build points the bundled code at, and
 * `platformatic_ajv.ts` (how code in a bundled worker loads ajv).
 */
export const BUNDLE_ENTRIES = [
  "entry.ts",
  "bundle_require.ts",
  "platformatic_net.ts",
  "platformatic_wasm.ts",
  "platformatic_ajv.ts",
  "platformatic_builtins.ts",
] as const;

/**
 * Runs Bun's bundler on the worker entry of `packageDir` into `outdir`
 * (and its metafile, when given), with @platformatic/kafka trimmed to what a
 * worker runs (`scripts/worker_library.ts`); throws with Bun's output when it
 * fails.
 *
 * @example
 * ```ts ignore
 * await bundleWorker(ROOT, "/tmp/out");
 * ```
 */
export async function bundleWorker(
  packageDir: string,
  outdir: string,
  metafile?: string,
): Promise<void> {
  const request: BundleRequest = {
    entrypoints: BUNDLE_ENTRIES.map((name) => join(packageDir, "src", "worker", name)),
    outdir,
    external: EXTERNAL_PACKAGES,
    ...(metafile === undefined ? {} : { metafile }),
  };
  await runBun([join(ROOT, "scripts", "bun_bundle.ts"), JSON.stringify(request)], packageDir);
}

/** The module {@linkcode rewireChunk} points chunks at, as the bundler names it. */
export const BUNDLE_REQUIRE = "bundle_require.js";
/** Built-in modules the bundled code may `require` (each must work through `bundleRequire`). */
export const REQUIRED_BUILTINS = ["assert", "crypto", "events", "net", "tls", "util", "zlib"];

const PRELUDE_IMPORT = 'import { createRequire } from "node:module";\n';
const PRELUDE_REQUIRE =
  /var __require = (\/\* @__PURE__ \*\/ )?createRequire\(import\.meta\.url\);/;
/** A read (not an assignment) of the global `process.env.KAFKAJS_*`. */
const KAFKAJS_ENV = /(?<![.\w$])process\.env\.(KAFKAJS_[A-Z_]+)\b(?!\s*=[^=])/g;
const REQUIRE_CALL = /\b__require\("([^"]+)"\)/g;

/**
 * One output chunk with its `require` taken from {@linkcode BUNDLE_REQUIRE}
 * instead of `node:module`, and kafkajs's `process.env.KAFKAJS_*` reads
 * through `bundleEnv`; null when the chunk has neither, or is
 * @platformatic/kafka's (its `require` comes from the helpers' chunk,
 * rewired already; its own `createRequire` calls stay).
 *
 * @throws {Error} When the chunk requires a built-in outside
 *   {@linkcode REQUIRED_BUILTINS}, or still refers to `createRequire`
 *   afterwards (the bundler's output changed shape).
 */
export function rewireChunk(source: string): string | null {
  if (PLATFORMATIC_MARKER.test(source)) {
    if (source.search(KAFKAJS_ENV) !== -1) {
      throw new Error("bundle: kafkajs shares a chunk with @platformatic/kafka");
    }
    return null;
  }
  for (const [, id] of source.matchAll(REQUIRE_CALL)) {
    if (!REQUIRED_BUILTINS.includes(id!.replace(/^node:/, ""))) {
      throw new Error(`the bundle requires "${id}", which bundle_require.ts does not provide`);
    }
  }
  const hasRequire = source.includes(PRELUDE_IMPORT);
  const hasEnv = source.search(KAFKAJS_ENV) !== -1;
  if (!hasRequire && source.includes("createRequire(")) {
    throw new Error("bundle: createRequire is used without the prelude this build rewires");
  }
  if (!hasRequire && !hasEnv) return null;
  let out = source;
  if (hasRequire) {
    if (!PRELUDE_REQUIRE.test(out)) throw new Error("bundle: createRequire prelude not found");
    out = out.replace(PRELUDE_IMPORT, "").replace(
      PRELUDE_REQUIRE,
      "var __require = __bundleRequire;",
    );
  }
  out = out.replace(KAFKAJS_ENV, '__bundleEnv("$1")');
  if (out.includes("createRequire")) throw new Error("bundle: createRequire is still used");
  return `import { bundleEnv as __bundleEnv, bundleRequire as __bundleRequire } from "./${BUNDLE_REQUIRE}";\n${out}`;
}

/**
 * The first line of a CommonJS module the bundler wrapped: `var require_x = __commonJS(function(…) {`,
 * its body on the lines after it.
 */
const FACTORY_START = /^var require_[\w$]+ = __commonJS\(function\([^)]*\) \{$/;
/** The last line of such a wrapper. */
const FACTORY_END = "});";

/**
 * `source` with every CommonJS module function the bundler wrote
 * (`__commonJS(function (exports, module) { … })`) put in parentheses.
 *
 * V8 compiles a function on its first call, unless it is a parenthesized
 * function expression: that one it compiles with its file. Deno writes its
 * compiled-code cache right after a module compiles, so the cache held none
 * of kafkajs's module functions, and every worker parsed and compiled the
 * ~200 that run when kafkajs loads. Parenthesized, they come from the cache:
 * loading kafkajs takes a worker about 19 ms instead of 26 ms. (The
 * functions they define, such as class methods, still compile on first
 * call. V8's `//# allFunctionsCalledOnLoad` comment would cover those too,
 * but Deno does not ask V8 to follow it.)
 *
 * A wrapper ends at the first line that is exactly `});` where the text
 * from its `function` parses as one function expression: such a line inside
 * a template string does not end it. A wrapper with no such end (say, one
 * that uses `import.meta`, which only a module may) is left as it is: it
 * still works, compiled on first call.
 *
 * @throws {Error} When a wrapper is not at the start of a line, or not laid
 *   out as above: the bundler's output changed.
 */
export function eagerFactories(source: string): string {
  const lines = source.split("\n");
  let found = 0;
  for (let open = 0; open < lines.length; open++) {
    const start = lines[open]!;
    if (!FACTORY_START.test(start)) continue;
    found++;
    const at = start.indexOf("function(");
    for (let end = open + 1; end < lines.length; end++) {
      if (lines[end] !== FACTORY_END) continue;
      if (!isFunctionExpression([start.slice(at), ...lines.slice(open + 1, end), "}"].join("\n"))) {
        continue;
      }
      lines[open] = `${start.slice(0, at)}(${start.slice(at)}`;
      lines[end] = "}));";
      open = end;
      break;
    }
  }
  const wrappers = source.match(/__commonJS\(function\(/g)?.length ?? 0;
  if (found !== wrappers) {
    throw new Error(
      `bundle: ${wrappers - found} CommonJS modules are not laid out as ` +
        "`var require_x = __commonJS(function(…) {` on a line of their own",
    );
  }
  return lines.join("\n");
}

/**
 * Whether `text` parses as exactly one function expression (it is not run):
 * in brackets, a `)` or `}` that closes it early leaves the rest unparsable.
 */
function isFunctionExpression(text: string): boolean {
  try {
    new Function(`"use strict"; return [\n${text}\n];`);
    return true;
  } catch {
    return false;
  }
}

/** The module {@linkcode libraryNetImports} points the library's socket imports at. */
export const PLATFORMATIC_NET = "platformatic_net.js";
/** The library's imports of node's socket functions, as the bundler writes them. */
const NET_IMPORT = /^import \{ createConnection \} from "node:net";$/m;
const TLS_IMPORT = /^import \{ connect as ([\w$]+) \} from "node:tls";$/m;

/**
 * @platformatic/kafka's chunk with its `createConnection` from `node:net`
 * and `connect` from `node:tls` taken from {@linkcode PLATFORMATIC_NET}
 * instead (sockets over Deno's own TCP, `src/kafka/platformatic/deno_socket.ts`):
 * `node:net`, with the stream and timer layers it loads, is then not loaded
 * until a connection needs node's. Other chunks are returned as they are.
 *
 * @throws {Error} When the library's chunk does not import both as expected
 *   (the library or the bundler's output changed).
 */
export function libraryNetImports(source: string): string {
  if (!PLATFORMATIC_MARKER.test(source)) return source;
  const tls = TLS_IMPORT.exec(source);
  if (!NET_IMPORT.test(source) || tls === null) {
    throw new Error(
      "bundle: @platformatic/kafka's chunk does not import createConnection from node:net and connect from node:tls as expected",
    );
  }
  return source.replace(NET_IMPORT, "").replace(
    TLS_IMPORT,
    `import { connect as ${tls[1]}, createConnection } from "./${PLATFORMATIC_NET}";`,
  );
}

/** The module {@linkcode libraryBuiltinImports} points the library's imports of some built-ins at. */
export const PLATFORMATIC_BUILTINS = "platformatic_builtins.js";
/** An import of named members from `node:crypto`, `node:module` or `node:stream`, as the bundler writes it. */
const BUILTIN_IMPORT = /^import \{([^}\n]+)\} from "(?:node:)?(crypto|module|stream)";$/gm;
/** The default import of `node:zlib`, as the bundler writes it. */
const ZLIB_IMPORT = /^import ([\w$]+) from "(?:node:)?zlib";$/gm;
/** What {@linkcode PLATFORMATIC_BUILTINS} has of each. */
const LAZY_BUILTINS: Record<string, Record<string, string>> = {
  crypto: Object.fromEntries(
    ["createHash", "createHmac", "pbkdf2", "randomBytes", "randomUUID"].map((n) => [n, n]),
  ),
  module: { createRequire: "requireOnFirstUse" },
  stream: { Readable: "Readable", Writable: "Writable" },
};

/**
 * @platformatic/kafka's chunk with its imports from `node:crypto`,
 * `node:module`, `node:stream` and `node:zlib` taken from
 * {@linkcode PLATFORMATIC_BUILTINS} instead: the same functions and classes,
 * loading the built-in when first called or instantiated
 * (`src/worker/platformatic_builtins.ts`). Other chunks are returned as
 * they are.
 *
 * @throws {Error} When the library's chunk imports something else from
 *   these, in another form, or nothing; or uses a stream class other than
 *   as a class's base, or zlib other than by taking functions from it (the
 *   library or the bundler's output changed).
 */
export function libraryBuiltinImports(source: string): string {
  if (!PLATFORMATIC_MARKER.test(source)) return source;
  let rewired = 0;
  const bases: string[] = [];
  const zlibs: string[] = [];
  const out = source.replace(BUILTIN_IMPORT, (_line, names: string, module: string) => {
    const imports = names.split(",").map((spec) => {
      const [name, local = name] = spec.trim().split(/\s+as\s+/) as [string, string?];
      const ours = Object.hasOwn(LAZY_BUILTINS[module]!, name)
        ? LAZY_BUILTINS[module]![name]
        : undefined;
      if (ours === undefined) {
        throw new Error(
          `bundle: @platformatic/kafka imports ${name} from node:${module}, which ${PLATFORMATIC_BUILTINS} does not have`,
        );
      }
      if (module === "stream") bases.push(local);
      return `${ours} as ${local}`;
    });
    rewired++;
    return `import { ${imports.join(", ")} } from "./${PLATFORMATIC_BUILTINS}";`;
  }).replace(ZLIB_IMPORT, (_line, local: string) => {
    zlibs.push(local);
    return `import { zlib as ${local} } from "./${PLATFORMATIC_BUILTINS}";`;
  });
  if (rewired === 0 || /from "(?:node:)?(?:crypto|module|stream|zlib)"/.test(out)) {
    throw new Error(
      "bundle: @platformatic/kafka's chunk does not import node:crypto, node:module, node:stream and node:zlib as expected",
    );
  }
  for (const local of bases) checkOnlyExtended(source, local);
  for (const local of zlibs) checkOnlyDestructured(source, local, zlibFunctions());
  return out;
}

/** A JavaScript identifier as a regular expression's source (`$` is its only special character). */
function identifierPattern(local: string): string {
  return local.replaceAll("$", "\\$");
}

/** A name's uses in a chunk, other than as a member (`x.name`) or part of a longer name. */
function usesOf(source: string, local: string): number {
  const name = identifierPattern(local);
  return source.match(new RegExp(`(?<![\\w$.])${name}(?![\\w$])`, "g"))?.length ?? 0;
}

/** Fails unless a stand-in class is used only as a class's base (its import aside). */
function checkOnlyExtended(source: string, local: string): void {
  const extended = source.split(`extends ${local} {`).length - 1;
  const others = usesOf(source, local) - 1 - extended;
  if (extended === 0 || others !== 0) {
    throw new Error(
      `bundle: @platformatic/kafka uses ${local} from node:stream other than as a class's base (${others} other uses)`,
    );
  }
}

/**
 * Fails unless the zlib stand-in's import is followed by `var { f, … } =
 * zlib;`, each f a function (not a class: the stand-in's functions cannot be
 * constructed) of node:zlib, and the name is not used again in the rest of
 * the library's module (up to the bundler's next `// node_modules/…`
 * comment: another module of the chunk may have a `zlib` of its own).
 */
function checkOnlyDestructured(source: string, local: string, functions: Set<string>): void {
  const name = identifierPattern(local);
  const take = new RegExp(
    `^import ${name} from "(?:node:)?zlib";\\nvar \\{([^}]+)\\} = ${name};$`,
    "m",
  )
    .exec(source);
  const others = (take?.[1] ?? "").split(",").map((n) => n.trim()).filter((n) => !functions.has(n));
  const end = take === null ? -1 : source.indexOf("\n// node_modules/", take.index);
  const rest = take === null
    ? ""
    : source.slice(take.index + take[0].length, end === -1 ? source.length : end);
  if (take === null || others.length > 0 || usesOf(rest, local) > 0) {
    throw new Error(
      `bundle: @platformatic/kafka uses node:zlib other than by taking its functions${
        others.length > 0 ? ` (${others.join(", ")})` : ""
      }`,
    );
  }
}

/** The names of node:zlib's functions in the runtime that builds, its classes left out. */
function zlibFunctions(): Set<string> {
  return new Set(
    Object.entries(nodeZlib).filter(([k, v]) => typeof v === "function" && /^[a-z]/.test(k))
      .map(([k]) => k),
  );
}

/** How `debug` (in the library's chunk) tells whether stderr is a terminal. */
const DEBUG_COLORS_TEST = "tty.isatty(process.stderr.fd)";
/**
 * How the bundler writes `debug`'s `require("supports-color")`, an optional
 * package that is not installed: a throw, caught by debug's `try`.
 */
const DEBUG_SUPPORTS_COLOR =
  'const supportsColor = (()=>{throw new Error("Cannot require module "+"supports-color");})();';

/**
 * @platformatic/kafka's chunk with its `debug` dependency choosing colours
 * without loading or throwing anything: it asks `stderrIsTerminal` from
 * {@linkcode PLATFORMATIC_BUILTINS} whether stderr is a terminal, instead of
 * `tty.isatty(process.stderr.fd)`, which on Deno makes node's stderr stream
 * and loads `node:tty` and `node:net` when the library makes its loggers;
 * and it finds `supports-color` absent without the bundler's throw. Making
 * that throw's `Error` cost ~15 ms of every worker's start, for an error
 * debug ignores: on Deno an `Error` gets a detailed stack trace of up to 10
 * frames, whatever `Error.stackTraceLimit` says, and V8 computes the source
 * positions of each function on it; the chunk's top level, one ~1 MB
 * function, was the 6th (`throw 0` there costs nothing, `new Error()`
 * without a throw the full 15 ms). Other chunks are returned as they are.
 *
 * @throws {Error} When the library's chunk does not do either that way once.
 */
export function libraryDebugColors(source: string): string {
  if (!PLATFORMATIC_MARKER.test(source)) return source;
  if (source.split(DEBUG_COLORS_TEST).length !== 2) {
    throw new Error("bundle: @platformatic/kafka's debug does not test stderr as expected");
  }
  if (source.split(DEBUG_SUPPORTS_COLOR).length !== 2) {
    throw new Error(
      "bundle: @platformatic/kafka's debug does not try supports-color as expected",
    );
  }
  return `import { stderrIsTerminal as __stderrIsTerminal } from "./${PLATFORMATIC_BUILTINS}";\n${
    source.replace(DEBUG_COLORS_TEST, "__stderrIsTerminal()").replace(
      DEBUG_SUPPORTS_COLOR,
      "const supportsColor = undefined /* not installed */;",
    )
  }`;
}

/** The library's import of node:util's `inspect`, as the bundler writes it. */
const INSPECT_IMPORT = 'import { inspect } from "node:util";';
/** `inspect` other than called or imported (a method named so is followed by its brackets). */
const INSPECT_NOT_CALLED = /(?<![\w$.])inspect\b(?!\s*\()/;

/**
 * @platformatic/kafka's chunk with its `inspect` from
 * {@linkcode PLATFORMATIC_BUILTINS}, which looks node:util's up when first
 * called: Bun makes node:util's `inspect` when it is first read, and the
 * library's import by name read it when the library loaded. Other chunks
 * are returned as they are.
 *
 * @throws {Error} When the library's chunk does not import `inspect` that
 *   way once, or uses it other than by calling it.
 */
export function libraryInspect(source: string): string {
  if (!PLATFORMATIC_MARKER.test(source)) return source;
  const parts = source.split(INSPECT_IMPORT);
  if (parts.length !== 2) {
    throw new Error("bundle: @platformatic/kafka does not import node:util's inspect as expected");
  }
  for (const part of parts) {
    const use = INSPECT_NOT_CALLED.exec(part);
    if (use !== null) {
      throw new Error(
        `bundle: @platformatic/kafka uses inspect other than by calling it (…${
          part.slice(Math.max(0, use.index - 30), use.index + 20)
        }…)`,
      );
    }
  }
  return parts.join(`import { inspect } from "./${PLATFORMATIC_BUILTINS}";`);
}

/** What {@linkcode libraryProcess} lets the library read of its `process` (the stand-in's members). */
const PROCESS_MEMBERS = ["env", "nextTick", "emitWarning", "stderr", "type", "__nwjs"];
/** A member read of the global `process` (not of another object's `process`). */
const PROCESS_MEMBER = /(?<![\w$.])process\.([\w$]+)/g;
/** `process` itself used as a value: passed, called, indexed, assigned, tested. */
const PROCESS_VALUE = /(?<![\w$.])process(?=\s*(?:[)\],;[(=?:}&|]|$))/gm;
/** A top-level binding named `process` in a chunk (the bundler writes top-level code unindented). */
const PROCESS_BINDING =
  /^(?:(?:var|let|const|class|(?:async )?function\*?) process\b|import\b[^;]*\bprocess\b)/m;
/** The flag in the engine's chunk that says the library's `process` is the stand-in. */
const PROCESS_FLAG = /^var (LIBRARY_PROCESS_IS_STAND_IN\d*) = false;$/m;
/** That flag once {@linkcode libraryProcess} set it. */
const PROCESS_FLAG_SET = /^var LIBRARY_PROCESS_IS_STAND_IN\d* = true;$/m;

/**
 * Gives @platformatic/kafka's chunk `libraryProcess` from
 * {@linkcode PLATFORMATIC_BUILTINS} as its `process` (an import of that
 * name, which the chunk's code then reads instead of the global), and sets
 * the flag in `src/kafka/platformatic/library_env.ts`'s chunk that tells
 * the engine so. On Deno, reading the global `process` loads node:process
 * and node's streams (~5 ms of every worker's start), for `nextTick`.
 * Other chunks are returned as they are.
 *
 * @throws {Error} When the library's chunk binds `process` itself, uses it
 *   as a value other than in `typeof process` or `"member" in process`, or
 *   reads or tests a member the stand-in does not have.
 */
export function libraryProcess(source: string): string {
  const flagged = source.replace(PROCESS_FLAG, "var $1 = true;");
  if (!PLATFORMATIC_MARKER.test(flagged)) return flagged;
  if (PROCESS_BINDING.test(flagged)) {
    throw new Error("bundle: @platformatic/kafka's chunk declares a `process` of its own");
  }
  for (const match of flagged.matchAll(PROCESS_VALUE)) {
    const before = flagged.slice(Math.max(0, match.index - 40), match.index);
    const tested = /"([\w$]+)" in $/.exec(before)?.[1];
    if (!before.endsWith("typeof ") && !PROCESS_MEMBERS.includes(tested ?? "")) {
      throw new Error(
        `bundle: @platformatic/kafka uses \`process\` as a value (…${
          flagged.slice(Math.max(0, match.index - 30), match.index + 20)
        }…), which the stand-in may not answer as the real one`,
      );
    }
  }
  for (const [, member] of flagged.matchAll(PROCESS_MEMBER)) {
    if (!PROCESS_MEMBERS.includes(member!)) {
      throw new Error(
        `bundle: @platformatic/kafka reads process.${member}, which libraryProcess does not have`,
      );
    }
  }
  return `import { libraryProcess as process } from "./${PLATFORMATIC_BUILTINS}";\n${flagged}`;
}

/** How the library's `createAPI` gives each API function its promise form, as the bundler writes it. */
const API_PROMISIFY = /^(\s*)api\.async = ([\w$]+)\(api\);$/gm;

/**
 * @platformatic/kafka's chunk with its `createAPI` making each API
 * function's promise form (`api.async`) when first read, through
 * `promisifyOnFirstRead` from {@linkcode PLATFORMATIC_BUILTINS}, instead of
 * for every API when the library loads. Other chunks are returned as they
 * are.
 *
 * @throws {Error} When the library's chunk does not make it that way once.
 */
export function libraryApiPromises(source: string): string {
  if (!PLATFORMATIC_MARKER.test(source)) return source;
  const takes = [...source.matchAll(API_PROMISIFY)];
  const local = takes[0]?.[2] ?? "";
  const fromUtil = new RegExp(
    `^import \\{[^}\\n]*\\bpromisify${
      local === "promisify" ? "" : ` as ${identifierPattern(local)}`
    }\\b[^}\\n]*\\} from "node:util";$`,
    "m",
  );
  if (takes.length !== 1 || !/^promisify\d*$/.test(local) || !fromUtil.test(source)) {
    throw new Error("bundle: @platformatic/kafka's createAPI does not promisify as expected");
  }
  return `import { promisifyOnFirstRead as __promisifyOnFirstRead } from "./${PLATFORMATIC_BUILTINS}";\n${
    source.replace(API_PROMISIFY, '$1__promisifyOnFirstRead(api, "async", $2);')
  }`;
}

/** The files of @platformatic/wasm-utils that `platformatic_wasm.js` depends on (manifest inputs). */
export const WASM_PACKAGE_FILES = [
  "node_modules/@platformatic/wasm-utils/package.json",
  "node_modules/@platformatic/wasm-utils/dist/native.wasm",
];

/** The module {@linkcode libraryWasmImports} points the library's codec imports at. */
export const PLATFORMATIC_WASM = "platformatic_wasm.js";
/** An import from @platformatic/wasm-utils, as the bundler writes it. */
const WASM_IMPORT = /^(import \{[^}\n]+\} from )"@platformatic\/wasm-utils";$/gm;

/**
 * @platformatic/kafka's chunk with its imports from @platformatic/wasm-utils
 * (CRC-32C, lz4 and snappy) taken from {@linkcode PLATFORMATIC_WASM}
 * instead: the same functions over the package's WebAssembly file, compiled
 * on first use rather than at load. Other chunks are returned as they are.
 *
 * @throws {Error} When the library's chunk does not import from the package
 *   (the library or the bundler's output changed).
 */
export function libraryWasmImports(source: string): string {
  if (!PLATFORMATIC_MARKER.test(source)) return source;
  if (source.search(WASM_IMPORT) === -1) {
    throw new Error(
      "bundle: @platformatic/kafka's chunk does not import @platformatic/wasm-utils as expected",
    );
  }
  const out = source.replace(WASM_IMPORT, `$1"./${PLATFORMATIC_WASM}";`);
  if (out.includes('"@platformatic/wasm-utils"')) {
    throw new Error(
      "bundle: @platformatic/kafka's chunk imports @platformatic/wasm-utils in a way the build does not rewire",
    );
  }
  return out;
}

/** The library's choice of CRC-32C, made when its records module loads. */
const CRC32C_CHOICE = /^var crc32c = (loadNativeCRC32C\(\) \?\? [\w$]+);$/m;

/**
 * @platformatic/kafka's chunk with its CRC-32C chosen on first use: the
 * library tries `@node-rs/crc32` (a native addon, through `node:module`'s
 * `require`) and else takes the WebAssembly one, when it loads; only
 * producing a record batch needs either. The choice is the same, made later.
 * Other chunks are returned as they are.
 *
 * @throws {Error} When the library's chunk does not choose as expected.
 */
export function lazyCrc32c(source: string): string {
  if (!PLATFORMATIC_MARKER.test(source)) return source;
  if (!CRC32C_CHOICE.test(source)) {
    throw new Error("bundle: @platformatic/kafka's chunk does not choose its CRC-32C as expected");
  }
  return source.replace(
    CRC32C_CHOICE,
    "var crc32cChoice = null;\nvar crc32c = (data) => (crc32cChoice ??= $1)(data);",
  );
}

/** The library's ajv, as its edited utilities create it (scripts/worker_library.ts). */
const LIBRARY_AJV = /^var ajv = libraryAjv\d*\(\{[^\n]*\}\);$/gm;
/** What the library reads of its ajv, and what the stand-in has. */
const AJV_MEMBER = /(?<![\w$./-])ajv\.(\w+)/g;
const STAND_IN_MEMBERS = ["compile", "addKeyword", "errorsText", "opts"];
/** The flag in lazy_ajv.ts that says the library's ajv is the stand-in. */
const LAZY_FLAG = /^var (LIBRARY_AJV_IS_LAZY\d*) = false;$/gm;
/** That flag once {@linkcode lazyLibraryAjv} set it. */
const LAZY_FLAG_SET = /^var LIBRARY_AJV_IS_LAZY\d* = true;$/gm;

/**
 * Sets the flag that tells the engine the library's ajv is the stand-in
 * (`LIBRARY_AJV_IS_LAZY` in `src/kafka/platformatic/lazy_ajv.ts`), in the
 * chunk that has it, and checks that @platformatic/kafka's chunk creates its
 * ajv as `scripts/worker_library.ts` edits it and uses no member of it that
 * the stand-in lacks. Other chunks are returned as they are.
 *
 * @throws {Error} When the library creates or uses its ajv otherwise than
 *   the stand-in covers (the library or the bundler's output changed).
 */
export function lazyLibraryAjv(source: string): string {
  // Every copy (rewireBundle counts them: a second copy of lazy_ajv.ts would keep its own marks).
  if (source.search(LAZY_FLAG) !== -1) return source.replace(LAZY_FLAG, "var $1 = true;");
  if (!PLATFORMATIC_MARKER.test(source)) return source;
  if ((source.match(LIBRARY_AJV)?.length ?? 0) !== 1) {
    throw new Error(
      "bundle: @platformatic/kafka's chunk does not create its ajv stand-in as expected",
    );
  }
  for (const [, member] of source.matchAll(AJV_MEMBER)) {
    if (!STAND_IN_MEMBERS.includes(member!)) {
      throw new Error(
        `bundle: @platformatic/kafka uses ajv.${member}, which lazy_ajv.ts does not have`,
      );
    }
  }
  return source;
}

/** What the build reads of the bundler's metafile: each output chunk's inputs and imports. */
export interface BundleMeta {
  inputs: Record<string, unknown>;
  outputs: Record<string, {
    inputs: Record<string, unknown>;
    imports: { path: string; kind: string }[];
    /** The module a chunk starts: an entry, or the target of a dynamic import. */
    entryPoint?: string;
  }>;
}

/** An input of ajv's package, as the bundler names it. */
const AJV_INPUT = /(?:^|\/)node_modules\/ajv\//;

/**
 * The chunks that hold some of ajv and that a worker loads without asking
 * for ajv: those reached by static imports from every chunk an entry or a
 * dynamic import starts, but for the chunks ajv's own modules start (what
 * the engine's `import("ajv/dist/2020.js")` loads). The build fails unless
 * there are none.
 *
 * @throws {Error} When no chunk holds ajv (then this check would say nothing).
 */
export function ajvLoadedAtStart(meta: BundleMeta): string[] {
  const outputs = Object.entries(meta.outputs);
  const holds = new Set(
    outputs.filter(([, out]) => Object.keys(out.inputs).some((i) => AJV_INPUT.test(i)))
      .map(([name]) => name),
  );
  if (holds.size === 0) throw new Error("bundle: no chunk holds ajv");
  const loaded = new Set<string>();
  const pending = outputs.filter(([, out]) =>
    out.entryPoint !== undefined && !AJV_INPUT.test(out.entryPoint)
  ).map(([name]) => name);
  for (let name = pending.pop(); name !== undefined; name = pending.pop()) {
    if (loaded.has(name)) continue;
    loaded.add(name);
    for (const { path, kind } of meta.outputs[name]?.imports ?? []) {
      if (kind !== "dynamic-import") pending.push(path);
    }
  }
  return [...loaded].filter((name) => holds.has(name)).sort();
}

/** A bundler-written `import("./chunk.js")` of another chunk. */
const CHUNK_IMPORT = /\bimport\("(\.\/[\w.-]+\.js)"\)/g;
/** What {@linkcode deferChunkImports} calls instead of `import(…)`. */
const DEFERRED_IMPORT = "__importChunk";

/**
 * `source` with its dynamic imports of other chunks made through a function
 * (`__importChunk("./x.js")`), so that the runtime loads a chunk only when
 * the import runs. Deno otherwise loads every module that a dynamic import
 * names literally along with the entry, before any code runs: each kafkajs
 * worker held @platformatic/kafka's chunks (about 1.4 MB of source; 1.9 MiB
 * and more start-up CPU per worker).
 */
export function deferChunkImports(source: string): string {
  if (source.search(CHUNK_IMPORT) === -1) return source;
  const out = source.replace(CHUNK_IMPORT, `${DEFERRED_IMPORT}("$1")`);
  return `const ${DEFERRED_IMPORT} = (specifier) => import(specifier);\n${out}`;
}

/**
 * Rewires every chunk in `outdir` ({@linkcode rewireChunk}), defers its imports of other chunks
 * ({@linkcode deferChunkImports}) and parenthesizes its CommonJS modules
 * ({@linkcode eagerFactories}).
 */
async function rewireBundle(outdir: string): Promise<void> {
  for (const module of BUNDLE_ENTRIES.map((name) => name.replace(/\.ts$/, ".js"))) {
    if (!existsSync(join(outdir, module))) throw new Error(`bundle: no ${module}`);
  }
  let lazyAjvFlags = 0;
  let processFlags = 0;
  for await (const entry of Deno.readDir(outdir)) {
    if (!entry.isFile || !entry.name.endsWith(".js")) continue;
    const path = join(outdir, entry.name);
    const source = await Deno.readTextFile(path);
    const rewired = entry.name === BUNDLE_REQUIRE ? null : rewireChunk(source);
    const out = libraryProcess(lazyLibraryAjv(lazyCrc32c(
      libraryWasmImports(libraryApiPromises(libraryInspect(libraryDebugColors(libraryBuiltinImports(
        libraryNetImports(deferChunkImports(rewired ?? source)),
      ))))),
    )));
    await Deno.writeTextFile(path, eagerFactories(out));
    lazyAjvFlags += out.match(LAZY_FLAG_SET)?.length ?? 0;
    if (PROCESS_FLAG_SET.test(out)) processFlags++;
  }
  if (processFlags !== 1) {
    throw new Error(
      `bundle: ${processFlags} chunks say the library's process is the stand-in (1 expected)`,
    );
  }
  if (lazyAjvFlags !== 1) {
    throw new Error(`bundle: ${lazyAjvFlags} flags say the library's ajv is lazy (1 expected)`);
  }
}

/** The bundler's comment before a module of kafkajs: its chunk is not minified. */
export const KAFKAJS_MARKER = /\n\/\/ (?:[^\n]*\/)?node_modules\/kafkajs\//;

/**
 * Whether a chunk is minified ({@linkcode minifyChunks}): all but kafkajs's,
 * whose CommonJS modules must stay parenthesized ({@linkcode eagerFactories})
 * for the code cache: minified, they lose their parentheses, and loading
 * kafkajs costs a worker ~5 ms more CPU for ~1.4 MiB less.
 */
export function minifiedChunk(source: string): boolean {
  return !KAFKAJS_MARKER.test(source);
}

/**
 * Minifies the chunks in `outdir` that {@linkcode minifiedChunk} selects,
 * in place, with Bun's minifier: whitespace and syntax, not identifiers
 * (class and function names, which errors and logs show, stay as they are).
 *
 * A worker keeps each module's source text in its heap, and V8 its line
 * table: @platformatic/kafka's chunk is ~0.65 MB as the bundler writes it and
 * ~0.47 MB minified.
 */
async function minifyChunks(outdir: string): Promise<void> {
  const names: string[] = [];
  for await (const entry of Deno.readDir(outdir)) {
    if (!entry.isFile || !entry.name.endsWith(".js")) continue;
    if (minifiedChunk(await Deno.readTextFile(join(outdir, entry.name)))) names.push(entry.name);
  }
  if (names.length === 0) return;
  const minified = `${outdir}.min`;
  await Deno.remove(minified, { recursive: true }).catch(() => {});
  try {
    await runBun([
      "build",
      "--no-bundle",
      "--minify-whitespace",
      "--minify-syntax",
      ...names, // relative to outdir: Bun keeps their paths below it
      `--outdir=${minified}`,
    ], outdir);
    for (const name of names) await Deno.rename(join(minified, name), join(outdir, name));
  } finally {
    await Deno.remove(minified, { recursive: true }).catch(() => {});
  }
}

if (import.meta.main) {
  if (!existsSync(BUN)) {
    // A production install without development packages: the daemon still runs, from source.
    console.error(`no bundler at ${BUN} (npm ci installs it); workers will load from source`);
    Deno.exit(0);
  }
  const manifest = await buildWorkerBundle();
  console.error(
    `wrote ${BUNDLE_DIR}/ from ${Object.keys(manifest.inputs).length} input files`,
  );
}

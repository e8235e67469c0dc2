/**
 * A handler's local module graph: the handler file and the local modules it
 * imports, followed recursively, so that an edit of any of them is seen as
 * an edit of the handler (its reload, its fingerprint, the check that gates
 * its workers).
 *
 * "Local" means a specifier that names a file: `./`, `../`, an absolute path
 * or a `file:` URL. Bare specifiers (`npm:`, `jsr:`, `node:`, `https:`, names
 * an import map or `node_modules` resolves) are not followed: they are the
 * dependencies' versions, not the handler's code. A small scanner finds the
 * specifiers in the text, without parsing it: static `import … from "x"`,
 * `import "x"`, `export … from "x"`, and `import("x")` / `require("x")` with
 * a literal string; `import type` and `export type` are left out (erased
 * before the code runs: `import type { Context } from "../src/mod.ts"`
 * does not bring the daemon's own sources into the graph). It cannot see a specifier computed at run time
 * (`import(name)`, `import(\`./${name}.ts\`)`), nor a bare specifier an
 * import map points at a local file; it may take a commented-out import for
 * a real one (harmless: one more file fingerprinted). At most
 * {@linkcode MAX_GRAPH_MODULES} modules are followed.
 *
 * @module
 */
import { readFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { dirname, extname, isAbsolute, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { fingerprintBytes, fingerprintValue } from "./fingerprint.ts";

/** The most modules of one handler's graph that are read and fingerprinted. */
export const MAX_GRAPH_MODULES = 256;

/** The fingerprint of a module that cannot be read. */
export const MISSING = "missing";

/** A handler's local module graph as read from disk. */
export interface ModuleGraph {
  /**
   * The handler file's bytes' fingerprint when it imports no local module
   * (as before graphs were followed); otherwise the fingerprint of every
   * module's path (relative to the handler's directory) and bytes.
   */
  fingerprint: string;
  /**
   * Every module of the graph (absolute path, the handler first) with the
   * fingerprint of its bytes ({@linkcode MISSING} for one that cannot be read).
   */
  modules: ReadonlyMap<string, string>;
  /** More than {@linkcode MAX_GRAPH_MODULES} modules: the rest is not followed. */
  truncated: boolean;
}

/** `import … from "x"`, `export … from "x"`; group 1 says `type` (erased at run time). */
const FROM = /\b(?:import|export)(\s+type\b(?=\s*[^\s,f]))?[^;'"`]*?\bfrom\s*(["'])([^"'\r\n]+)\2/g;
/** `import "x"`. */
const BARE_IMPORT = /\bimport\s*(["'])([^"'\r\n]+)\1/g;
/** `import("x")`, `import(\`x\`)` without substitutions, `require("x")`. */
const CALL = /\b(?:import|require)\s*\(\s*(?:(["'])([^"'\r\n]+)\1|`([^`$\\]+)`)\s*[,)]/g;
/** Files whose text is scanned for imports. */
const SCRIPTS = new Set([".ts", ".tsx", ".mts", ".cts", ".js", ".jsx", ".mjs", ".cjs"]);
/** What Bun tries after an extensionless specifier (Deno needs the extension). */
const EXTENSIONS = [".ts", ".tsx", ".mts", ".js", ".jsx", ".mjs", ".cjs", ".json"];
/** `./x.js` may name `./x.ts` (TypeScript's convention, which Bun follows). */
const TS_FOR_JS: Record<string, string> = { ".js": ".ts", ".jsx": ".tsx", ".mjs": ".mts" };

/**
 * The local specifiers in a module's text, in order, each once.
 *
 * @example
 * ```ts
 * localSpecifiers('import { a } from "./a.ts";\nimport z from "npm:zod";\nawait import("../b.ts");');
 * // ["./a.ts", "../b.ts"]
 * ```
 */
export function localSpecifiers(source: string): string[] {
  const found = new Set<string>();
  for (const match of source.matchAll(FROM)) if (match[1] === undefined) found.add(match[3]!);
  for (const match of source.matchAll(BARE_IMPORT)) found.add(match[2]!);
  for (const match of source.matchAll(CALL)) found.add((match[2] ?? match[3])!);
  return [...found].filter(isLocal);
}

function isLocal(specifier: string): boolean {
  return specifier.startsWith("./") || specifier.startsWith("../") || specifier === "." ||
    specifier === ".." || specifier.startsWith("file:") || specifier.startsWith("/");
}

/**
 * The files `specifier` (local) may name, imported from the module at
 * `from`, in the order a runtime tries them: the path itself, then (Bun)
 * the TypeScript file for a `.js` one, or for a path without extension the
 * usual extensions and `index` files.
 */
export function candidates(from: string, specifier: string): string[] {
  const bare = specifier.replace(/[?#].*$/, "");
  let path: string;
  try {
    path = bare.startsWith("file:")
      ? fileURLToPath(bare)
      : isAbsolute(bare)
      ? bare
      : resolve(dirname(from), bare);
  } catch {
    return []; // a file: URL no runtime would load (another host): nothing to follow
  }
  const ext = extname(path);
  const ts = TS_FOR_JS[ext];
  if (ts !== undefined) return [path, path.slice(0, -ext.length) + ts];
  if ((SCRIPTS.has(ext) || ext === ".json") && !bare.endsWith("/")) return [path];
  return [
    path,
    ...EXTENSIONS.map((e) => path + e),
    ...EXTENSIONS.map((e) => resolve(path, `index${e}`)),
  ];
}

/**
 * Walks the graph from `entry`: yields each path to read and is given its
 * bytes back (null when it cannot be read). Pure: the caller reads, so one
 * walk serves a synchronous and an asynchronous reader.
 */
function* walk(
  entry: string,
  maxModules: number,
): Generator<string, ModuleGraph, Uint8Array | null> {
  const prints = new Map<string, string>();
  const pending: string[][] = [[entry]];
  const asked = new Set<string>([entry]);
  const text = new TextDecoder();
  let truncated = false;
  for (let next = pending.shift(); next !== undefined; next = pending.shift()) {
    if (next.some((path) => prints.has(path))) continue; // reached through another specifier
    if (prints.size >= maxModules) {
      truncated = true;
      break;
    }
    let found: { path: string; bytes: Uint8Array } | null = null;
    for (const path of next) {
      const bytes = yield path;
      if (bytes !== null) {
        found = { path, bytes };
        break;
      }
    }
    if (found === null) {
      prints.set(next[0]!, MISSING);
      continue;
    }
    prints.set(found.path, fingerprintBytes(found.bytes));
    if (!SCRIPTS.has(extname(found.path))) continue;
    for (const specifier of localSpecifiers(text.decode(found.bytes))) {
      const paths = candidates(found.path, specifier);
      const key = paths[0];
      if (key === undefined || asked.has(key)) continue;
      asked.add(key);
      pending.push(paths);
    }
  }
  const root = dirname(entry);
  const fingerprint = prints.size === 1 ? prints.get(entry)! : fingerprintValue(
    [...prints].map(([path, print]) => [relative(root, path), print])
      .sort(([a], [b]) => (a! < b! ? -1 : a! > b! ? 1 : 0)),
  );
  return { fingerprint, modules: prints, truncated };
}

/**
 * Reads the local module graph of the handler at `entry` (absolute).
 *
 * @example
 * ```ts
 * const { fingerprint, modules } = await moduleGraph("/srv/workers/audit.ts");
 * ```
 */
export async function moduleGraph(
  entry: string,
  { maxModules = MAX_GRAPH_MODULES }: { maxModules?: number } = {},
): Promise<ModuleGraph> {
  const steps = walk(entry, maxModules);
  let step = steps.next();
  while (!step.done) step = steps.next(await readFile(step.value).catch(() => null));
  return step.value;
}

/** {@linkcode moduleGraph}, read synchronously (when a worker is about to start). */
export function moduleGraphSync(
  entry: string,
  { maxModules = MAX_GRAPH_MODULES }: { maxModules?: number } = {},
): ModuleGraph {
  const steps = walk(entry, maxModules);
  let step = steps.next();
  while (!step.done) step = steps.next(readOrNull(step.value));
  return step.value;
}

function readOrNull(path: string): Uint8Array | null {
  try {
    return readFileSync(path);
  } catch {
    return null;
  }
}

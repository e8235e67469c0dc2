/**
 * What the worker bundle leaves out of @platformatic/kafka: a worker runs a
 * consumer (and, for handlers that produce, a producer), never the admin
 * client, the admin or telemetry APIs, or a schema registry. The library's
 * index modules re-export all of them (its clients find an API by name in
 * one table of every API, so the bundler cannot drop any on its own), and
 * its LRU cache comes from mnemonist's index, which loads every data
 * structure of that package. Its ajv instance, created when it loads,
 * becomes a stand-in that needs ajv only to check options the engine did not
 * build (`src/kafka/platformatic/lazy_ajv.ts`), so that ajv is a chunk of its
 * own, loaded on demand. The bundler (`scripts/bun_bundle.ts`) reads these
 * modules as {@linkcode editLibraryModule} returns them.
 *
 * In the library's copy in the bundle, an API it does not hold is one the
 * broker and the library have no version in common for: `Unsupported API`.
 * The supervisor's uses of the library (the admin client that evicts a dead
 * worker's member) run from the package itself, whole.
 *
 * @module
 */

/** One exact piece of a module's text and what it becomes. */
export interface LibraryEdit {
  readonly text: string;
  readonly becomes: string;
  /** What must no longer be in the module once its edits are made (what this edit replaces every use of). */
  readonly leaves?: RegExp;
}

/**
 * The mnemonist module the library's edited `murmur2.js` imports: its
 * package lets only `require` reach it, so the bundler resolves it through
 * the importer's `require` (`scripts/bun_bundle.ts`).
 */
export const LRU_CACHE_MODULE = "mnemonist/lru-cache.js";

/**
 * How an edited module imports a module of ours: the bundler resolves
 * `consumerd-src:a/b.ts` to `src/a/b.ts` of the package it bundles
 * (`scripts/bun_bundle.ts`).
 */
export const SOURCE_MODULE_SCHEME = "consumerd-src:";

/**
 * The edits, by module path inside the package's `dist/`. Each text must
 * appear exactly once.
 */
export const LIBRARY_EDITS: Readonly<Record<string, readonly LibraryEdit[]>> = {
  "index.js": [{ text: 'export * from "./registries/index.js";\n', becomes: "" }],
  "clients/index.js": [{ text: 'export * from "./admin/index.js";\n', becomes: "" }],
  "apis/index.js": [
    { text: 'export * from "./admin/index.js";\n', becomes: "" },
    { text: 'export * from "./telemetry/index.js";\n', becomes: "" },
  ],
  "utils.js": [
    {
      text: "import { Ajv2020 } from 'ajv/dist/2020.js';",
      becomes:
        `import { libraryAjv } from '${SOURCE_MODULE_SCHEME}kafka/platformatic/lazy_ajv.ts';`,
      leaves: /\bAjv2020\b/,
    },
    {
      text: "export const ajv = new Ajv2020(",
      becomes: "export const ajv = libraryAjv(",
    },
  ],
  "protocol/murmur2.js": [{
    text: "import { LRUCache } from 'mnemonist';",
    becomes: `import LRUCache from '${LRU_CACHE_MODULE}';`,
  }],
};

/** Where the installed library's modules are, as a pattern: a module's path inside `dist/` follows. */
const LIBRARY_DIST = String.raw`(?:^|[\\/])node_modules[\\/]@platformatic[\\/]kafka[\\/]dist[\\/]`;

/**
 * A module of the installed @platformatic/kafka (an absolute path, or one
 * relative to the package as the bundler names its inputs): its path inside
 * `dist/` is the first group.
 */
export const LIBRARY_MODULE = new RegExp(`${LIBRARY_DIST}(.+)$`);

/** The modules {@linkcode LIBRARY_EDITS} edits, as a file-name filter for the bundler. */
export const EDITED_MODULE = new RegExp(
  `${LIBRARY_DIST}(?:${
    Object.keys(LIBRARY_EDITS).map((m) => m.replaceAll(".", "\\.")).join("|")
  })$`,
);

/**
 * The path inside the library's `dist/` of the module at `path` when it is
 * one {@linkcode LIBRARY_EDITS} edits; otherwise null.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(editedModule("/app/node_modules/@platformatic/kafka/dist/apis/index.js"), "apis/index.js");
 * assert.equal(editedModule("/app/node_modules/@platformatic/kafka/dist/errors.js"), null);
 * ```
 */
export function editedModule(path: string): string | null {
  const inside = LIBRARY_MODULE.exec(path)?.[1]?.replaceAll("\\", "/");
  return inside !== undefined && Object.hasOwn(LIBRARY_EDITS, inside) ? inside : null;
}

/**
 * `source`, the text of the library's module `module` (a path inside its
 * `dist/`), with its {@linkcode LIBRARY_EDITS} applied.
 *
 * @throws {Error} When the module has no edits, one of its texts is not in
 *   `source` exactly once, or what an edit replaces is still there after
 *   them (the installed library changed: the bundle would not be what this
 *   module says it is).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const source = 'export * from "./errors.js";\nexport * from "./registries/index.js";\n';
 * assert.equal(editLibraryModule("index.js", source), 'export * from "./errors.js";\n');
 * ```
 */
export function editLibraryModule(module: string, source: string): string {
  const edits = Object.hasOwn(LIBRARY_EDITS, module) ? LIBRARY_EDITS[module] : undefined;
  if (edits === undefined) throw new Error(`bundle: no edits for @platformatic/kafka's ${module}`);
  let out = source;
  for (const { text, becomes } of edits) {
    const at = out.indexOf(text);
    if (at === -1 || out.indexOf(text, at + 1) !== -1) {
      throw new Error(
        `bundle: @platformatic/kafka's dist/${module} does not contain ${
          JSON.stringify(text)
        } exactly once`,
      );
    }
    out = out.slice(0, at) + becomes + out.slice(at + text.length);
  }
  for (const { leaves } of edits) {
    if (leaves !== undefined && leaves.test(out)) {
      throw new Error(
        `bundle: @platformatic/kafka's dist/${module} still has ${leaves.source} after its edits`,
      );
    }
  }
  return out;
}

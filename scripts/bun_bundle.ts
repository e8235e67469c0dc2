/**
 * Runs under Bun, started by `scripts/build.ts`:
 * `bun scripts/bun_bundle.ts '<BundleRequest as JSON>'`. Bundles the
 * worker's entries with Bun's bundler, reading @platformatic/kafka's modules
 * as `worker_library.ts` edits them, and writes the metafile. Fails when the
 * bundle has errors, or when a module that was to be edited was not read
 * (the library moved it).
 *
 * @module
 */
import { readFile, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import process from "node:process";
import {
  EDITED_MODULE,
  editedModule,
  editLibraryModule,
  LIBRARY_EDITS,
  LIBRARY_MODULE,
  LRU_CACHE_MODULE,
  SOURCE_MODULE_SCHEME,
} from "./worker_library.ts";

/** What `scripts/build.ts` asks for. */
export interface BundleRequest {
  /** The worker's entries, in the package's `src/worker/`. */
  readonly entrypoints: readonly string[];
  readonly outdir: string;
  readonly external: readonly string[];
  readonly metafile?: string;
}

interface PluginBuild {
  onLoad(
    options: { filter: RegExp },
    load: (args: { path: string }) => Promise<{ contents: string; loader: "js" }>,
  ): void;
  onResolve(
    options: { filter: RegExp },
    resolve: (args: { path: string; importer: string }) => { path: string },
  ): void;
}

interface BunBuild {
  build(options: {
    entrypoints: readonly string[];
    outdir: string;
    target: "node";
    format: "esm";
    splitting: boolean;
    external: readonly string[];
    metafile: boolean;
    naming: { chunk: string };
    plugins: { name: string; setup(build: PluginBuild): void }[];
  }): Promise<{ success: boolean; logs: unknown[]; metafile?: unknown }>;
}

async function bundle(request: BundleRequest): Promise<void> {
  const bun = (globalThis as unknown as { Bun: BunBuild }).Bun;
  const edited = new Set<string>();
  const sourceDir = dirname(dirname(request.entrypoints[0] ?? "src/worker/entry.ts"));
  const result = await bun.build({
    entrypoints: request.entrypoints,
    outdir: request.outdir,
    target: "node",
    format: "esm",
    splitting: true,
    external: request.external,
    metafile: true,
    // As `bun build` names them: a chunk a module of ours starts is named after it.
    naming: { chunk: "[name]-[hash].[ext]" },
    plugins: [{
      name: "worker-library",
      setup(build) {
        build.onLoad({ filter: EDITED_MODULE }, async ({ path }) => {
          const module = editedModule(path);
          if (module === null) throw new Error(`bundle: ${path} is not a module to edit`);
          edited.add(module);
          return {
            contents: editLibraryModule(module, await readFile(path, "utf8")),
            loader: "js",
          };
        });
        build.onResolve(
          { filter: new RegExp(`^${LRU_CACHE_MODULE.replaceAll(".", "\\.")}$`) },
          ({ path, importer }) => ({ path: createRequire(importer).resolve(path) }),
        );
        build.onResolve(
          { filter: new RegExp(`^${SOURCE_MODULE_SCHEME}[\\w/]+\\.ts$`) },
          ({ path }) => ({ path: join(sourceDir, path.slice(SOURCE_MODULE_SCHEME.length)) }),
        );
      },
    }],
  });
  if (!result.success) throw new AggregateError(result.logs, "bundle: Bun's bundler failed");
  const meta = typeof result.metafile === "string"
    ? result.metafile
    : JSON.stringify(result.metafile);
  const inputs = Object.keys((JSON.parse(meta) as { inputs: Record<string, unknown> }).inputs);
  const missing = Object.keys(LIBRARY_EDITS).filter((module) => !edited.has(module));
  if (inputs.some((path) => LIBRARY_MODULE.test(path)) && missing.length > 0) {
    throw new Error(`bundle: @platformatic/kafka's ${missing.join(", ")} were not bundled`);
  }
  if (request.metafile !== undefined) await writeFile(request.metafile, meta);
}

await bundle(JSON.parse(process.argv[2] ?? "{}") as BundleRequest);

/**
 * The worker bundle: `deno task build` writes the worker entry, its client
 * libraries and our code as a few ES modules under `dist/worker/`, with a
 * manifest of every input file and its digest. Workers start from it when
 * it matches the files on disk; otherwise (never built, or any input edited
 * since) from the TypeScript sources.
 *
 * Loading one bundled module graph instead of ~150 CommonJS files lets each
 * worker use the runtime's compiled-code cache: 50 workers start in about
 * two thirds of the time and each holds about 2 MiB less.
 *
 * @module
 */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

/** The manifest `deno task build` writes next to the bundle. */
export interface BundleManifest {
  /** The bundle's entry module, relative to the bundle directory. */
  entry: string;
  /** Every input file, relative to the package directory, with its SHA-256 (hex). */
  inputs: Record<string, string>;
}

/** Where the bundle lives under the package directory. */
export const BUNDLE_DIR = join("dist", "worker");
/** The manifest's file name inside {@linkcode BUNDLE_DIR}. */
export const MANIFEST_FILE = "manifest.json";

/** Which worker entry the supervisor uses, and why. */
export type WorkerEntryChoice =
  | { kind: "bundle"; url: URL }
  | { kind: "source"; url: URL; reason: string };

/** The SHA-256 of a file's bytes, hex. */
export function fileDigest(path: string): string {
  return createHash("sha256").update(readFileSync(path)).digest("hex");
}

/**
 * The first input whose digest differs from the manifest's (or that cannot
 * be read), or null when the bundle matches every input.
 *
 * @example
 * ```ts ignore
 * staleInput(manifest, (path) => fileDigest(join(packageDir, path))); // "src/worker/loop.ts"
 * ```
 */
export function staleInput(
  manifest: BundleManifest,
  digest: (path: string) => string,
): string | null {
  for (const [path, expected] of Object.entries(manifest.inputs)) {
    let actual: string;
    try {
      actual = digest(path);
    } catch {
      return path;
    }
    if (actual !== expected) return path;
  }
  return null;
}

/** Parses a manifest; throws a TypeError naming what is wrong. */
export function parseManifest(text: string): BundleManifest {
  const value: unknown = JSON.parse(text);
  const record = value as Partial<BundleManifest> | null;
  if (
    typeof record !== "object" || record === null || typeof record.entry !== "string" ||
    typeof record.inputs !== "object" || record.inputs === null ||
    Object.keys(record.inputs).length === 0 ||
    !Object.values(record.inputs).every((d) => typeof d === "string")
  ) {
    throw new TypeError("expected { entry: string, inputs: { [path]: sha256 } } with inputs");
  }
  return { entry: record.entry, inputs: record.inputs };
}

/**
 * Picks the worker entry: the bundle under `packageDir` when it was built
 * from exactly the files on disk, otherwise `source` with the reason.
 *
 * @example
 * ```ts ignore
 * const choice = chooseWorkerEntry("/app", new URL("../worker/entry.ts", import.meta.url));
 * if (choice.kind === "source") log.info("workers load from source", { reason: choice.reason });
 * ```
 */
export function chooseWorkerEntry(packageDir: string, source: URL): WorkerEntryChoice {
  const dir = join(packageDir, BUNDLE_DIR);
  let manifest: BundleManifest;
  try {
    manifest = parseManifest(readFileSync(join(dir, MANIFEST_FILE), "utf8"));
  } catch (error) {
    const missing = (error as { code?: string }).code === "ENOENT";
    return {
      kind: "source",
      url: source,
      reason: missing
        ? "no worker bundle (deno task build makes one)"
        : `unreadable ${join(BUNDLE_DIR, MANIFEST_FILE)}: ${(error as Error).message}`,
    };
  }
  const stale = staleInput(manifest, (path) => fileDigest(join(packageDir, path)));
  if (stale !== null) {
    return {
      kind: "source",
      url: source,
      reason: `the worker bundle is older than ${stale} (deno task build refreshes it)`,
    };
  }
  return { kind: "bundle", url: pathToFileURL(join(dir, manifest.entry)) };
}

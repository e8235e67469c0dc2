/**
 * Where this package's own files are (the runtime's sources, the worker
 * bundle, node_modules), as the permissions of a worker and of a handler
 * probe name them. Read from the file system once, when first imported.
 *
 * @module
 */
import { realpathSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { WorkerPermissionsOptions } from "./permissions.ts";

/** Where `path` really is when that is elsewhere (it is, or is under, a link); else undefined. */
function realPath(path: string): string | undefined {
  try {
    const real = realpathSync(path);
    return real === path ? undefined : real;
  } catch {
    return undefined; // no node_modules (a compiled executable): nothing to add
  }
}

/** The package this module belongs to (src/, the worker bundle, node_modules). */
const PACKAGE_DIR = dirname(fileURLToPath(new URL("../", import.meta.url)));

/**
 * The package's location for {@linkcode workerPermissions}: what every
 * worker, and every probe of a handler, may read besides its handler.
 *
 * @example
 * ```ts
 * workerPermissions(consumer, config.kafka, PACKAGE_LOCATION);
 * ```
 */
export const PACKAGE_LOCATION: Readonly<WorkerPermissionsOptions> = {
  packageDir: PACKAGE_DIR,
  realNodeModules: realPath(join(PACKAGE_DIR, "node_modules")),
};

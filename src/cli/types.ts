/**
 * `consumerd types [--out consumerd.d.ts]`: the handler API (the types
 * `src/mod.ts` exports) as one self-contained declaration file, for
 * handler projects outside the repository.
 *
 * @module
 */
import { writeFile } from "node:fs/promises";
import type { CommandOutput } from "./check.ts";
import { HANDLER_API } from "./handler_api.ts";

/**
 * Writes the declarations to `out`, or prints them without it; returns the
 * exit code (1 when the file cannot be written).
 *
 * @example
 * ```ts
 * await typesCommand({ out: "consumerd.d.ts" }); // "wrote consumerd.d.ts"
 * ```
 */
export async function typesCommand(
  { out: path }: { out?: string | undefined },
  { out = console.log, err = console.error }: CommandOutput = {},
): Promise<number> {
  if (path === undefined) {
    out(HANDLER_API.trimEnd());
    return 0;
  }
  try {
    await writeFile(path, HANDLER_API);
  } catch (error) {
    err(`error: cannot write ${path}: ${error instanceof Error ? error.message : String(error)}`);
    return 1;
  }
  out(`wrote ${path}`);
  return 0;
}

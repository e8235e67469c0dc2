/**
 * Writes what is generated from the zod schema: `config/consumers.schema.json`
 * and the field reference in `docs/configuration.md`.
 *
 *     deno task generate                                 # write both
 *     deno run -A src/config/generate_schema.ts --check  # exit 1 if either is stale
 *
 * Also runs under Bun: `bun src/config/generate_schema.ts`.
 *
 * @module
 */
import { readFile, writeFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import process from "node:process";
import { consumersJsonSchemaText, JSON_SCHEMA_PATH } from "./json_schema.ts";
import { CONFIG_REFERENCE_PATH, withConfigReference } from "./reference.ts";

/** Absolute path of the checked-in schema file. */
export const jsonSchemaFile: string = fileURLToPath(
  new URL(`../../${JSON_SCHEMA_PATH}`, import.meta.url),
);

/** Absolute path of the configuration reference page. */
export const configReferenceFile: string = fileURLToPath(
  new URL(`../../${CONFIG_REFERENCE_PATH}`, import.meta.url),
);

/**
 * Writes the schema file and the reference page's field tables (or, with
 * `check`, only compares them). Returns the exit code: 0 when both are (now)
 * up to date, 1 when `check` found one stale.
 *
 * @example
 * ```ts
 * await generateSchema({ check: true }); // 0 or 1
 * ```
 */
export async function generateSchema({ check = false }: { check?: boolean } = {}): Promise<number> {
  const page = await readFile(configReferenceFile, "utf8");
  const outputs = [
    { name: JSON_SCHEMA_PATH, file: jsonSchemaFile, text: consumersJsonSchemaText() },
    { name: CONFIG_REFERENCE_PATH, file: configReferenceFile, text: withConfigReference(page) },
  ];
  let code = 0;
  for (const { name, file, text } of outputs) {
    const current = await readFile(file, "utf8").catch(() => "");
    if (current === text) continue;
    if (check) {
      console.error(`${name} is stale: run deno task generate`);
      code = 1;
    } else {
      await writeFile(file, text);
      console.log(`wrote ${name}`);
    }
  }
  return code;
}

if (import.meta.main) {
  process.exitCode = await generateSchema({ check: process.argv.includes("--check") });
}

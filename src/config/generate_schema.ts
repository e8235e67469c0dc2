/**
 * Writes `config/consumers.schema.json` from the zod schema.
 *
 *     deno run -A src/config/generate_schema.ts          # write it
 *     deno run -A src/config/generate_schema.ts --check  # exit 1 if it is stale
 *
 * Also runs under Bun: `bun src/config/generate_schema.ts`.
 *
 * @module
 */
import { readFile, writeFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import process from "node:process";
import { consumersJsonSchemaText, JSON_SCHEMA_PATH } from "./json_schema.ts";

/** Absolute path of the checked-in schema file. */
export const jsonSchemaFile: string = fileURLToPath(
  new URL(`../../${JSON_SCHEMA_PATH}`, import.meta.url),
);

/**
 * Writes the schema file (or, with `check`, only compares it). Returns the
 * exit code: 0 when the file is (now) up to date, 1 when `check` found it stale.
 *
 * @example
 * ```ts
 * await generateSchema({ check: true }); // 0 or 1
 * ```
 */
export async function generateSchema({ check = false }: { check?: boolean } = {}): Promise<number> {
  const text = consumersJsonSchemaText();
  if (check) {
    const current = await readFile(jsonSchemaFile, "utf8").catch(() => "");
    if (current === text) return 0;
    console.error(`${JSON_SCHEMA_PATH} is stale: run deno run -A src/config/generate_schema.ts`);
    return 1;
  }
  await writeFile(jsonSchemaFile, text);
  console.log(`wrote ${JSON_SCHEMA_PATH}`);
  return 0;
}

if (import.meta.main) {
  process.exitCode = await generateSchema({ check: process.argv.includes("--check") });
}

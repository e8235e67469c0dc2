/**
 * Generates `src/cli/handler_api.ts`: the handler API — every type
 * `src/mod.ts` exports — as one self-contained declaration file, which
 * `consumerd types` writes for handler projects outside the repository.
 * Each declaration is copied from the file `src/mod.ts` names, with its
 * JSDoc; `deno task generate` runs this, and a test fails when the
 * checked-in module is stale.
 *
 * @module
 */
import { readFile, writeFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";

const ROOT = new URL("../", import.meta.url);
/** Where the generated module is written. */
export const HANDLER_API_MODULE = "src/cli/handler_api.ts";

/** The names `mod.ts` re-exports as types, by the file they come from (relative to `src/`). */
export function exportedTypes(mod: string): Array<{ file: string; names: string[] }> {
  return [...mod.matchAll(/^export type \{([^}]*)\} from "\.\/([^"]+)";$/gm)].map((m) => ({
    file: m[2]!,
    names: m[1]!.split(",").map((n) => n.trim()).filter((n) => n !== ""),
  }));
}

/**
 * The declaration of `name` in `source` with the JSDoc above it: an
 * `export interface` up to its closing `}` at the start of a line, or an
 * `export type` up to the `;` that ends it.
 *
 * @throws {Error} When `source` declares no such type.
 */
export function declarationOf(source: string, name: string, file = "source"): string {
  const lines = source.split("\n");
  const start = lines.findIndex((l) => new RegExp(`^export (interface|type) ${name}\\b`).test(l));
  if (start === -1) throw new Error(`${file} declares no exported type ${name}`);
  let first = start;
  if (lines[start - 1]?.trimEnd().endsWith("*/")) {
    while (first > 0 && !lines[first - 1]!.startsWith("/**")) first--;
    first--;
  }
  let end = start;
  if (lines[start]!.startsWith("export interface")) {
    while (end < lines.length && lines[end] !== "}") end++;
  } else {
    while (end < lines.length && !lines[end]!.endsWith(";")) end++;
  }
  if (end === lines.length) throw new Error(`${file}: cannot find the end of ${name}`);
  return lines.slice(first, end + 1).join("\n");
}

const HEADER = `// The consumerd handler API, written by \`consumerd types\`: import its types with
//   import type { Context, Message } from "./consumerd.d.ts";
// Write it again with the consumerd you run when you upgrade.
`;

/** The declaration file of every type `src/mod.ts` exports, read from the sources. */
export async function readHandlerApi(): Promise<string> {
  const read = (path: string) => readFile(fileURLToPath(new URL(path, ROOT)), "utf8");
  const parts: string[] = [];
  for (const { file, names } of exportedTypes(await read("src/mod.ts"))) {
    const source = await read(`src/${file}`);
    for (const name of names) parts.push(declarationOf(source, name, `src/${file}`));
  }
  return `${HEADER}\n${parts.join("\n\n")}\n`;
}

/** `text` as the inside of a template literal (which the formatter leaves as it is). */
function asTemplate(text: string): string {
  return text.replaceAll("\\", "\\\\").replaceAll("`", "\\`").replaceAll("${", "\\${");
}

/** The generated module holding `declarations` as a string. */
export function handlerApiModule(declarations: string): string {
  return `/**
 * The handler API as one self-contained declaration file, for
 * \`consumerd types\`. Generated from the types src/mod.ts exports by
 * \`deno task generate\` (scripts/handler_api.ts); do not edit.
 *
 * @module
 */

/** The text of consumerd.d.ts. */
export const HANDLER_API: string =
  \`${asTemplate(declarations)}\`;
`;
}

if (import.meta.main) {
  const path = fileURLToPath(new URL(HANDLER_API_MODULE, ROOT));
  await writeFile(path, handlerApiModule(await readHandlerApi()));
  console.log(`wrote ${HANDLER_API_MODULE}`);
}

/**
 * The JSON Schema of consumers.yaml, generated from the zod schema, as
 * published in `config/consumers.schema.json` (editors use it through the
 * `# yaml-language-server: $schema=…` comment).
 *
 * @module
 */
import { z } from "zod";
import { ConfigFileSchema } from "./schema.ts";

/** Where the published schema lives, relative to the repository root. */
export const JSON_SCHEMA_PATH = "config/consumers.schema.json";

/**
 * The JSON Schema (draft 2020-12) of the file as written: fields with
 * defaults are optional and show their default.
 *
 * @example
 * ```ts
 * const schema = consumersJsonSchema();
 * schema.title; // "consumerd consumers.yaml"
 * ```
 */
export function consumersJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(ConfigFileSchema, { io: "input", target: "draft-2020-12" }) as Record<
    string,
    unknown
  >;
}

/**
 * The exact text of `config/consumers.schema.json`: 2-space JSON and a final
 * newline.
 *
 * @example
 * ```ts
 * await Deno.writeTextFile("config/consumers.schema.json", consumersJsonSchemaText());
 * ```
 */
export function consumersJsonSchemaText(): string {
  return `${JSON.stringify(consumersJsonSchema(), null, 2)}\n`;
}

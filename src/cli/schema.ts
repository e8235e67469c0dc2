/**
 * `consumerd schema`: print the JSON Schema of consumers.yaml.
 *
 * @module
 */
import { consumersJsonSchemaText } from "../config/json_schema.ts";
import type { CommandOutput } from "./check.ts";

/**
 * Prints the JSON Schema of consumers.yaml (the text of
 * `config/consumers.schema.json`) to stdout; returns exit code 0.
 *
 * @example
 * ```ts
 * await schemaCommand(); // prints {"$schema": …}
 * ```
 */
export function schemaCommand({ out = console.log }: CommandOutput = {}): Promise<number> {
  out(consumersJsonSchemaText().trimEnd());
  return Promise.resolve(0);
}

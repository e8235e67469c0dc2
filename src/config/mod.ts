/**
 * The configuration of consumerd: load, validate and print consumers.yaml.
 *
 * @example
 * ```ts
 * import { loadConfigFile, redactConfig } from "./src/config/mod.ts";
 * const config = await loadConfigFile("consumers.yaml");
 * console.log(JSON.stringify(redactConfig(config)));
 * ```
 *
 * @module
 */
export { ConfigError, type ConfigIssue, formatIssue } from "./error.ts";
export { loadConfigFile, type LoadConfigOptions } from "./load.ts";
export { analyzeConfig, parseConfig, type ParseConfigOptions } from "./parse.ts";
export { isSecretPath, redactConfig, REDACTED } from "./redact.ts";
export { consumersJsonSchema, consumersJsonSchemaText } from "./json_schema.ts";
export type * from "./types.ts";

/**
 * Secrets in a config (`kafka.sasl.password`, `kafka.ssl.key`, `http.token`) and how to
 * keep them out of logs, status output and error messages.
 *
 * @module
 */
import type { FieldPath } from "./locate.ts";
import type { Config } from "./types.ts";

/** What a secret is replaced with in printable output. */
export const REDACTED = "[redacted]";

/**
 * Whether the value at `path` (in the file or in a resolved {@linkcode Config})
 * is a secret that must never be printed.
 *
 * @example
 * ```ts
 * isSecretPath(["kafka", "sasl", "password"]); // true
 * isSecretPath(["kafka", "sasl", "username"]); // false
 * ```
 */
export function isSecretPath(path: FieldPath): boolean {
  const [section, object, field] = path;
  if (section === "http" && object === "token") return true;
  return path.length >= 3 && section === "kafka" &&
    ((object === "sasl" && field === "password") || (object === "ssl" && field === "key"));
}

/**
 * Whether a value at `path` could be, or contain, a secret: anything under
 * `kafka.sasl` or `kafka.ssl` except the mechanism, the user name and the
 * certificates. Error messages describe such values by type only.
 *
 * @example
 * ```ts
 * mayHoldSecret(["kafka", "sasl"]); // true: `sasl: hunter2` must not be echoed
 * mayHoldSecret(["kafka", "sasl", "mechanism"]); // false
 * ```
 */
export function mayHoldSecret(path: FieldPath): boolean {
  const [section, object, field] = path;
  if (section === "http" && object === "token") return true;
  if (section !== "kafka" || (object !== "sasl" && object !== "ssl")) return false;
  return !(object === "sasl" && (field === "mechanism" || field === "username")) &&
    !(object === "ssl" && (field === "ca" || field === "cert" || field === "rejectUnauthorized"));
}

/**
 * A copy of `config` that is safe to print: secrets replaced by
 * {@linkcode REDACTED}. The original is not changed.
 *
 * @example
 * ```ts
 * console.log(JSON.stringify(redactConfig(config)));
 * ```
 */
export function redactConfig(config: Config): Config {
  const copy = structuredClone(config);
  if (copy.kafka.sasl !== null) copy.kafka.sasl.password = REDACTED;
  if (copy.kafka.ssl !== false && copy.kafka.ssl.key !== undefined) copy.kafka.ssl.key = REDACTED;
  return copy;
}

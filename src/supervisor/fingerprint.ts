/**
 * Fingerprints of what a reload compares: a consumer's definition, its
 * handler module's bytes, the `kafka:` and `http:` sections. Pure: equal
 * inputs give equal fingerprints on every runtime and in every process, so
 * `check --diff` can compare a file with what a running daemon reports.
 *
 * @module
 */
import type { Config, ConsumerConfig } from "../config/types.ts";
import { redactConfig, REDACTED } from "../config/redact.ts";
import { withoutEnvValues } from "../config/settings.ts";

/**
 * The 64-bit FNV-1a hash of bytes, as 16 hex digits (not cryptographic: it
 * tells edits apart, it does not hide what was hashed).
 *
 * @example
 * ```ts
 * fingerprintBytes(new TextEncoder().encode("a")); // "af63dc4c8601ec8c"
 * ```
 */
export function fingerprintBytes(bytes: Uint8Array): string {
  // The hash in four 16-bit limbs, lowest first (BigInt arithmetic per byte is ten times
  // slower): starts at the offset basis 0xcbf29ce484222325; the prime is 2^40 + 0x1b3.
  let h0 = 0x2325, h1 = 0x8422, h2 = 0x9ce4, h3 = 0xcbf2;
  for (let i = 0; i < bytes.length; i++) {
    h0 ^= bytes[i]!;
    // hash * 0x1b3 + (hash << 40), limb by limb, carries upward; every sum stays below 2^31.
    let carry = h0 * 0x1b3;
    const l0 = carry & 0xffff;
    carry = h1 * 0x1b3 + (carry >>> 16);
    const l1 = carry & 0xffff;
    carry = h2 * 0x1b3 + (h0 << 8) + (carry >>> 16);
    const l2 = carry & 0xffff;
    carry = h3 * 0x1b3 + (h1 << 8) + (carry >>> 16);
    h3 = carry & 0xffff;
    h2 = l2;
    h1 = l1;
    h0 = l0;
  }
  return [h3, h2, h1, h0].map((limb) => limb.toString(16).padStart(4, "0")).join("");
}

/** JSON with object keys sorted at every level, so that key order never matters. */
export function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableJson(v)}`).join(",")}}`;
  }
  return JSON.stringify(value) ?? "null";
}

/**
 * The fingerprint of a JSON-like value (key order ignored).
 *
 * @example
 * ```ts
 * fingerprintValue({ a: 1, b: 2 }) === fingerprintValue({ b: 2, a: 1 }); // true
 * ```
 */
export function fingerprintValue(value: unknown): string {
  return fingerprintBytes(new TextEncoder().encode(stableJson(value)));
}

/**
 * A consumer's definition without `replicas` (a replicas change scales the
 * consumer instead of restarting it).
 *
 * @example
 * ```ts
 * definitionFingerprint(consumer); // "3f0c…"
 * ```
 */
export function definitionFingerprint(consumer: ConsumerConfig): string {
  const { replicas: _, ...definition } = consumer;
  return fingerprintValue(definition);
}

/** `consumer` with the values of its settings at `paths` (from `${VAR}`) replaced by a marker. */
function withoutEnvSettings(
  consumer: ConsumerConfig,
  paths: Parameters<typeof withoutEnvValues>[1] | undefined,
): ConsumerConfig {
  if (paths === undefined) return consumer;
  return { ...consumer, settings: withoutEnvValues(consumer.settings, paths, REDACTED) };
}

/** One consumer as a reload compares it. */
export interface ConsumerSnapshot {
  name: string;
  /** {@linkcode definitionFingerprint} of the consumer. */
  definition: string;
  /** Fingerprint of the handler module's bytes; `""` when handlers are not watched. */
  handler: string;
  replicas: number;
}

/** A config as a reload compares it. */
export interface ConfigSnapshot {
  /** Fingerprint of `kafka:` (secrets redacted when `redact` was asked for). */
  kafka: string;
  /** Fingerprint of `http:`. */
  http: string;
  consumers: ConsumerSnapshot[];
}

/**
 * A config's snapshot. `handlers` maps a handler path to the fingerprint of
 * its bytes (missing paths count as `""`). With `redact`, the `kafka:`
 * fingerprint ignores secret values, and each consumer's definition the
 * values of its `settings` that came from `${VAR}` (for output that others
 * may read).
 *
 * @example
 * ```ts
 * configSnapshot(config, new Map([["/srv/workers/audit.ts", "9a…"]]));
 * ```
 */
export function configSnapshot(
  config: Config,
  handlers: ReadonlyMap<string, string>,
  { redact = false }: { redact?: boolean } = {},
): ConfigSnapshot {
  const kafka = redact ? redactConfig(config).kafka : config.kafka;
  return {
    kafka: fingerprintValue(kafka),
    // allowedHosts only when set: the fingerprint of a config without it stays as it was.
    http: fingerprintValue(
      config.httpAllowedHosts?.length ? [config.http, config.httpAllowedHosts] : config.http,
    ),
    consumers: config.consumers.map((consumer) => ({
      name: consumer.name,
      definition: definitionFingerprint(
        redact ? withoutEnvSettings(consumer, config.settingsFromEnv?.[consumer.name]) : consumer,
      ),
      handler: handlers.get(consumer.handler) ?? "",
      replicas: consumer.replicas,
    })),
  };
}

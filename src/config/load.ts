/**
 * Loads consumers.yaml. (Minimal loader: the schema-driven one replaces it.)
 *
 * @module
 */
import { parse } from "yaml";
import { dirname, resolve } from "node:path";
import type { Config, ConsumerConfig } from "./types.ts";

/** One problem found in a config file. */
export interface ConfigIssue {
  file: string;
  line: number;
  column: number;
  /** Field path, e.g. `consumers[2].autoOffsetReset`. */
  path: string;
  message: string;
}

/** Thrown by {@linkcode loadConfigFile} with every problem in the file. */
export class ConfigError extends Error {
  readonly issues: ConfigIssue[];
  constructor(issues: ConfigIssue[]) {
    super(issues.map((i) => `${i.file}:${i.line}:${i.column} ${i.path}: ${i.message}`).join("\n"));
    this.name = "ConfigError";
    this.issues = issues;
  }
}

/** Options for {@linkcode loadConfigFile}. */
export interface LoadConfigOptions {
  /** Variables for `${VAR}` interpolation; defaults to the process environment. */
  env?: Record<string, string | undefined>;
}

/**
 * Reads, interpolates and validates a config file.
 *
 * @example
 * ```ts
 * const config = await loadConfigFile("consumers.yaml");
 * ```
 */
export async function loadConfigFile(path: string, options: LoadConfigOptions = {}): Promise<Config> {
  const env = options.env ?? Deno.env.toObject();
  const file = resolve(path);
  const text = await Deno.readTextFile(file);
  const raw = parse(text) ?? {};
  const sub = (v: unknown): unknown =>
    typeof v === "string"
      ? v.replace(/\$\{([A-Z0-9_]+)(?::-([^}]*))?\}/gi, (_, n: string, d?: string) => env[n] ?? d ?? "")
      : Array.isArray(v)
      ? v.map(sub)
      : v && typeof v === "object"
      ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, sub(x)]))
      : v;
  const doc = sub(raw) as Record<string, any>;
  const base = dirname(file);
  const defaults = doc.defaults ?? {};
  const brokers = ([] as string[]).concat(doc.kafka?.brokers ?? ["127.0.0.1:9092"])
    .flatMap((b) => b.split(",")).map((b) => b.trim()).filter(Boolean);
  const consumers: ConsumerConfig[] = (doc.consumers ?? []).map((c: any) => {
    const m = { ...defaults, ...c };
    return {
      name: m.name,
      group: m.group,
      topic: m.topic,
      mode: m.mode ?? "balanced",
      partitions: m.partitions ?? null,
      autoOffsetReset: String(m.autoOffsetReset ?? "earliest").toLowerCase(),
      resetOffsetOnStart: m.resetOffsetOnStart ?? false,
      handler: resolve(base, m.handler),
      commit: { mode: "auto", intervalMs: 5000, ...m.commit },
      replicas: m.replicas ?? 1,
      retry: { attempts: 3, backoffMs: 200, maxBackoffMs: 30000, ...m.retry },
      deadLetterTopic: m.deadLetterTopic ?? null,
      permissions: { net: [], read: [], write: [], env: [], ...m.permissions },
    } as ConsumerConfig;
  });
  if (consumers.some((c) => !c.name || !c.topic || !c.group)) {
    throw new ConfigError([{ file, line: 1, column: 1, path: "consumers", message: "name, group and topic are required" }]);
  }
  const listen = doc.http?.listen ?? "127.0.0.1:9464";
  const [host, port] = String(listen).split(":");
  return {
    path: file,
    kafka: { brokers, clientId: doc.kafka?.clientId ?? "consumerd", ssl: doc.kafka?.ssl ?? false, sasl: doc.kafka?.sasl ?? null },
    http: doc.http?.listen === false ? false : { host: host ?? "127.0.0.1", port: Number(port ?? 9464) },
    shutdown: { gracePeriodMs: doc.shutdown?.gracePeriodMs ?? 30000 },
    consumers,
  };
}

/**
 * The resolved shape of consumers.yaml: every default applied, every path
 * absolute, every `${VAR}` replaced.
 *
 * @module
 */

/** Where a consumer starts when it has no usable committed offset. */
export type AutoOffsetReset = "earliest" | "latest";

/** TLS settings for the broker connection. */
export interface SslConfig {
  ca?: string;
  cert?: string;
  key?: string;
  rejectUnauthorized?: boolean;
}

/** SASL settings for the broker connection. */
export interface SaslConfig {
  mechanism: "plain" | "scram-sha-256" | "scram-sha-512";
  username: string;
  password: string;
}

/** How the daemon reaches Kafka. */
export interface KafkaConfig {
  brokers: string[];
  clientId: string;
  ssl: false | SslConfig;
  sasl: null | SaslConfig;
}

/** What a handler may touch beyond its brokers (Deno permission names). */
export interface PermissionsConfig {
  net: string[];
  read: string[];
  write: string[];
  env: string[];
}

/** One consumer definition, with every default applied. */
export interface ConsumerConfig {
  name: string;
  group: string;
  topic: string;
  mode: "balanced" | "simple";
  /** Simple mode only; `null` means every partition of the topic. */
  partitions: number[] | null;
  autoOffsetReset: AutoOffsetReset;
  resetOffsetOnStart: boolean;
  /** Absolute path of the handler module. */
  handler: string;
  commit: { mode: "auto" | "manual"; intervalMs: number };
  replicas: number;
  retry: { attempts: number; backoffMs: number; maxBackoffMs: number };
  deadLetterTopic: string | null;
  permissions: PermissionsConfig;
}

/** The whole file, resolved. */
export interface Config {
  /** Absolute path of the file this came from. */
  path: string;
  kafka: KafkaConfig;
  /** `false` disables the status server. */
  http: false | { host: string; port: number };
  shutdown: { gracePeriodMs: number };
  consumers: ConsumerConfig[];
}

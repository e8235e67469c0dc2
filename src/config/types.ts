/**
 * The resolved shape of consumers.yaml: every default applied, every path
 * absolute, every `${VAR}` replaced. All types are derived from the zod
 * schema in `schema.ts`, the single source of truth.
 *
 * @module
 */
import type { z } from "zod";
import type { ConsumerPlace } from "./permission_denial.ts";
import type { SettingsPath } from "./settings.ts";
import type {
  ConsumerSchema,
  HttpSchema,
  KafkaSchema,
  ReloadSchema,
  SaslSchema,
  ShutdownSchema,
  SslSchema,
} from "./schema.ts";

/** One consumer definition, with every default applied and `handler` absolute. */
export type ConsumerConfig = z.output<typeof ConsumerSchema>;

/** Where a consumer starts when it has no usable committed offset. */
export type AutoOffsetReset = ConsumerConfig["autoOffsetReset"];

/** What a handler may touch beyond its brokers (Deno permission names); paths absolute. */
export type PermissionsConfig = ConsumerConfig["permissions"];

/** A Kafka client engine. */
export type Engine = KafkaConfig["engine"];

/** TLS settings for the broker connection (`{}`-like object when `ssl: true`). */
export type SslConfig = Exclude<z.output<typeof SslSchema>, false>;

/** SASL settings for the broker connection. */
export type SaslConfig = Exclude<z.output<typeof SaslSchema>, null>;

/** How the daemon reaches Kafka; `brokers` is always a non-empty array. */
export type KafkaConfig = z.output<typeof KafkaSchema>;

/** The status server's address, or `false` when it is disabled. */
export type HttpConfig = z.output<typeof HttpSchema>["listen"];

/** Shutdown settings. */
export type ShutdownConfig = z.output<typeof ShutdownSchema>;

/** Hot-reload settings. */
export type ReloadConfig = z.output<typeof ReloadSchema>;

/** Where a field that names a topic is written: the consumer's own, or `defaults:`. */
export interface TopicPlace {
  /** The consumer field: `topic`, `deadLetterTopic` or `outputs`. */
  field: "topic" | "deadLetterTopic" | "outputs";
  /** `outputs`: the index of the topic in the list. */
  item?: number;
  /** Its path in the file, e.g. `defaults.deadLetterTopic` or `consumers[1].outputs[0]`. */
  path: string;
  line: number;
  column: number;
}

/** Where a consumer's fields are written in its config file (1-based lines). */
export interface ConsumerLines {
  topic: number;
  handler: number;
  /** The consumer's index, entry line and permission lists, for messages in the config's terms. */
  place: ConsumerPlace;
  /** Where each topic it names is written (`check` warns there about one that does not exist). */
  topics: TopicPlace[];
}

/** The whole file, resolved. */
export interface Config {
  /** Absolute path of the file this came from. */
  path: string;
  kafka: KafkaConfig;
  /** `false` disables the status server. */
  http: HttpConfig;
  /** `http.token`: the bearer token the status server requires, or null. A secret. */
  httpToken?: string | null;
  /** `http.allowedHosts`: names `Host` may give besides IP addresses, localhost and the listen host. */
  httpAllowedHosts?: string[];
  /**
   * Where each consumer's fields are written in the file (1-based lines), by
   * consumer name, so that runtime errors can point at the config.
   */
  lines?: Record<string, ConsumerLines>;
  /**
   * By consumer name: the paths inside its `settings` whose values came from
   * `${VAR}`; what the daemon shows (the fingerprints in `/status`) leaves them out.
   */
  settingsFromEnv?: Record<string, SettingsPath[]>;
  shutdown: ShutdownConfig;
  reload: ReloadConfig;
  consumers: ConsumerConfig[];
}

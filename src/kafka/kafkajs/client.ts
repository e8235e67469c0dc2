/**
 * The kafkajs client, built from consumers.yaml's `kafka:` section. Only
 * files in src/kafka/ import kafkajs.
 *
 * @module
 */
import { Buffer } from "node:buffer";
import { type ISocketFactory, Kafka, logLevel, type SASLOptions } from "kafkajs";
// Before any client exists: idle connections stop polling their queue every millisecond.
import "./idle_queue.ts";
import type { KafkaConfig } from "../../config/types.ts";
import type { Logger } from "../../log.ts";
import { denoSocketFactory } from "./deno_socket.ts";

/** Options for {@linkcode createKafka}. */
export interface CreateKafkaOptions {
  /** Appended to `kafka.clientId`, e.g. the consumer name and replica. */
  clientIdSuffix?: string;
  logger?: Logger;
  /** How long to wait for a TCP connection, ms. */
  connectionTimeoutMs?: number;
  /** Sees every kafkajs log record (message and fields), whatever its level. */
  onLog?: (message: string, fields: Record<string, unknown>) => void;
}

// kafkajs logs every failed connection attempt as an error; the worker
// reports what it gives up on itself, so kafkajs's records are warnings at most.
const LEVELS: Record<number, "error" | "warn" | "info" | "debug"> = {
  [logLevel.ERROR]: "warn",
  [logLevel.WARN]: "warn",
  [logLevel.INFO]: "info",
  [logLevel.DEBUG]: "debug",
};

/**
 * Plaintext connections use Deno's own TCP API on Deno (see deno_socket.ts); elsewhere node:net.
 * Detected here rather than through src/runtime/: its Bun adapter imports node:process, which a
 * Deno worker must not load (Workers and the sandbox, the worker bundle).
 */
const ON_DENO = "Deno" in globalThis && !("Bun" in globalThis);

/** Creates a kafkajs client for the given cluster settings. */
export function createKafka(config: KafkaConfig, options: CreateKafkaOptions = {}): Kafka {
  const { clientIdSuffix, logger, onLog, connectionTimeoutMs = 3000 } = options;
  const sasl: SASLOptions | undefined = config.sasl === null ? undefined : {
    mechanism: config.sasl.mechanism,
    username: config.sasl.username,
    password: config.sasl.password,
  } as SASLOptions;
  return new Kafka({
    brokers: config.brokers,
    clientId: clientIdSuffix ? `${config.clientId}-${clientIdSuffix}` : config.clientId,
    ssl: config.ssl === false ? false : { ...config.ssl },
    ...(config.ssl === false && ON_DENO
      // kafkajs types its factory as returning a whole net.Socket; it uses only what KafkaSocket has.
      ? { socketFactory: denoSocketFactory((b) => Buffer.from(b)) as unknown as ISocketFactory }
      : {}),
    ...(sasl ? { sasl } : {}),
    connectionTimeout: connectionTimeoutMs,
    // Few retries inside kafkajs: the worker retries connecting with its own
    // backoff and says so, instead of kafkajs retrying silently for minutes.
    retry: { initialRetryTime: 300, maxRetryTime: 5_000, retries: 2 },
    logLevel: logLevel.WARN,
    logCreator: () => ({ namespace, level, log }) => {
      const { message, timestamp: _t, logger: _l, stack: _s, ...rest } = log as Record<
        string,
        unknown
      >;
      onLog?.(String(message), rest);
      logger?.[LEVELS[level] ?? "info"](`kafkajs: ${String(message)}`, { namespace, ...rest });
    },
  });
}

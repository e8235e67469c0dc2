/**
 * What a consumer's worker may touch: its brokers, the runtime's own files,
 * its handler, and what `permissions:` grants.
 *
 * @module
 */
import { join } from "node:path";
import type { ConsumerConfig, KafkaConfig } from "../config/types.ts";
import type { WorkerPermissions } from "../runtime/types.ts";

/** Environment variables the runtime itself reads inside a worker (kafkajs reads these at import). */
const RUNTIME_ENV = [
  "NODE_ENV",
  "KAFKAJS_LOG_LEVEL",
  "KAFKAJS_NO_PARTITIONER_WARNING",
  "KAFKAJS_DEBUG_PROTOCOL_BUFFERS",
  "KAFKAJS_DEBUG_EXTENDED_PROTOCOL_BUFFERS",
];

/** Options for {@linkcode workerPermissions}. */
export interface WorkerPermissionsOptions {
  /** Directory of the runtime's source (src/). */
  runtimeDir: string;
  /** Directory holding node_modules (kafkajs is read from there). */
  packageDir: string;
}

/**
 * Computes a worker's permissions.
 *
 * @example
 * ```ts
 * workerPermissions(consumer, kafka, { runtimeDir: "/app/src", packageDir: "/app" });
 * ```
 */
export function workerPermissions(
  consumer: ConsumerConfig,
  kafka: KafkaConfig,
  { runtimeDir, packageDir }: WorkerPermissionsOptions,
): WorkerPermissions {
  const unique = (xs: string[]) => [...new Set(xs)];
  return {
    net: unique([...kafka.brokers, ...consumer.permissions.net]),
    read: unique([
      runtimeDir,
      join(packageDir, "node_modules"),
      consumer.handler,
      ...consumer.permissions.read,
    ]),
    write: unique(consumer.permissions.write),
    env: unique([...RUNTIME_ENV, ...consumer.permissions.env]),
  };
}

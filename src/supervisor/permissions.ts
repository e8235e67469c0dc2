/**
 * What a consumer's worker may touch: its brokers, the runtime's own files,
 * its handler and the handler's project, and what `permissions:` grants.
 *
 * @module
 */
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
  /** The package: the runtime's files (src/, the worker bundle) and its node_modules. */
  packageDir: string;
  /**
   * Where `packageDir/node_modules` really is, when it is a link to elsewhere: modules
   * resolved through the link load from there (and read files next to them).
   */
  realNodeModules?: string | undefined;
  /**
   * The handler's project (the directory of its package.json): read access
   * to all of it, so that its own modules and the packages installed in
   * its node_modules load and read their files.
   */
  handlerProject?: { root: string; linked: readonly string[] } | null;
}

/**
 * Computes a worker's permissions.
 *
 * @example
 * ```ts
 * workerPermissions(consumer, kafka, { packageDir: "/app" });
 * ```
 */
export function workerPermissions(
  consumer: ConsumerConfig,
  kafka: KafkaConfig,
  { packageDir, realNodeModules, handlerProject = null }: WorkerPermissionsOptions,
): WorkerPermissions {
  const unique = (xs: string[]) => [...new Set(xs)];
  return {
    net: unique([...kafka.brokers, ...consumer.permissions.net]),
    read: unique([
      packageDir,
      ...(realNodeModules === undefined ? [] : [realNodeModules]),
      consumer.handler,
      ...(handlerProject === null ? [] : [handlerProject.root, ...handlerProject.linked]),
      ...consumer.permissions.read,
    ]),
    write: unique(consumer.permissions.write),
    env: unique([...RUNTIME_ENV, ...consumer.permissions.env]),
  };
}

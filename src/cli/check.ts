/**
 * `consumerd check`: validate a config file without starting anything.
 *
 * @module
 */
import { relative } from "node:path";
import process from "node:process";
import { ConfigError, formatIssue } from "../config/error.ts";
import { type HandlerCheck, loadConfigFile } from "../config/load.ts";
import { groupInstanceId, groupProtocolOf } from "../config/membership.ts";
import type { ConsumerConfig, KafkaConfig } from "../config/types.ts";
import { missingTopicWarnings } from "./topic_check.ts";
import { handlerProject } from "../config/handler_project.ts";
import { PACKAGE_LOCATION } from "../supervisor/package_location.ts";

/** Where a command writes its lines (stdout and stderr by default). */
export interface CommandOutput {
  /** Receives result lines (stdout). */
  out?: (line: string) => void;
  /** Receives error lines (stderr). */
  err?: (line: string) => void;
}

/**
 * One line describing a consumer, e.g.
 * `audit group=g topic=orders mode=balanced partitions=all replicas=1 …`,
 * ending with its handler's project (the directory its workers may read)
 * when it has one.
 *
 * @example
 * ```ts
 * summarizeConsumer(config.consumers[0], "/srv");
 * ```
 */
export function summarizeConsumer(
  consumer: ConsumerConfig,
  cwd: string,
  { project = null, kafka }: { project?: string | null; kafka?: KafkaConfig } = {},
): string {
  const fields = [
    `group=${consumer.group}`,
    `topic=${consumer.topic}`,
    `mode=${consumer.mode}`,
    `partitions=${consumer.partitions === null ? "all" : consumer.partitions.join(",")}`,
    `replicas=${consumer.replicas}`,
    `ordering=${consumer.ordering}`,
    `concurrency=${consumer.concurrency}`,
    `autoOffsetReset=${consumer.autoOffsetReset}`,
    `resetOffsetOnStart=${consumer.resetOffsetOnStart}`,
    `commit=${consumer.commit.mode === "auto" ? `auto/${consumer.commit.intervalMs}ms` : "manual"}`,
    `deadLetterTopic=${consumer.deadLetterTopic ?? "none"}`,
    ...(consumer.outputs.length === 0
      ? []
      : [`outputs=${consumer.outputs.join(",")}`, `delivery=${consumer.delivery}`]),
    ...(kafka === undefined ? [] : membership(consumer, kafka)),
    `handler=${relative(cwd, consumer.handler)}`,
    // What its workers may read besides the handler: the whole project.
    ...(project === null ? [] : [`project=${relative(cwd, project) || "."}`]),
  ];
  return `${consumer.name} ${fields.join(" ")}`;
}

/** What {@linkcode checkCommand} checks with. */
export interface CheckOptions {
  /** The config file. */
  config: string;
  /**
   * Checks one handler module; default: imported in this process. The
   * command line passes `workerProbe(runtime)`: each handler is imported in a
   * worker with exactly its consumer's worker permissions, as reload does.
   */
  probeHandler?: (check: HandlerCheck) => Promise<string | undefined>;
  /**
   * Lists the cluster's topics (or says why the brokers could not be
   * asked), to warn about a topic the config names that does not exist;
   * default: the cluster is not asked. The command line passes `listTopicsWithin`.
   */
  listTopics?: (kafka: KafkaConfig) => Promise<ReadonlySet<string> | string>;
  /** Whether workers are sandboxed on this runtime (default true); else `check` says so once. */
  sandboxed?: boolean;
}

/**
 * How a balanced consumer joins its group: protocol, static or dynamic
 * (with its workers' instance ids), and the session timeout that bounds a
 * restart — `kafka.sessionTimeoutMs` under the classic protocol, the
 * broker's own under the consumer protocol (which has no field for it).
 */
function membership(consumer: ConsumerConfig, kafka: KafkaConfig): string[] {
  if (consumer.mode !== "balanced") return [];
  const protocol = groupProtocolOf(consumer, kafka);
  const first = groupInstanceId(consumer, kafka, 0);
  const ids = consumer.replicas > 1 ? `${first}-${consumer.replicas - 1}` : first;
  return [
    `membership=${protocol},${first === null ? "dynamic" : `static:${ids}`}`,
    `sessionTimeout=${
      protocol === "classic"
        ? `${kafka.sessionTimeoutMs}ms`
        : "broker:group.consumer.session.timeout.ms"
    }`,
  ];
}

/**
 * Validates the config file (schema, rules and handler modules). Prints `ok`
 * and one line per consumer to stdout, and warnings (topics that do not
 * exist, when `listTopics` is given) to stderr, and returns 0; or prints
 * every problem to stderr, one per line as `file:line:col path: message`,
 * and returns 1.
 *
 * @example
 * ```ts
 * const code = await checkCommand({ config: "consumers.yaml" });
 * ```
 */
export async function checkCommand(
  { config: path, probeHandler, listTopics, sandboxed = true }: CheckOptions,
  { out = console.log, err = console.error }: CommandOutput = {},
): Promise<number> {
  try {
    const config = await loadConfigFile(path, probeHandler ? { probeHandler } : {});
    out("ok");
    const cwd = process.cwd();
    for (const consumer of config.consumers) {
      const root = handlerProject(consumer.handler)?.root ?? null;
      // consumerd's own package is not a handler project: its workers read it anyway.
      const project = root === PACKAGE_LOCATION.packageDir ? null : root;
      out(summarizeConsumer(consumer, cwd, { project, kafka: config.kafka }));
    }
    if (!sandboxed) {
      err(
        "note: workers are not sandboxed on this runtime: permissions: is not enforced, and " +
          "handlers were imported with the daemon's own permissions (run on Deno to check them)",
      );
    }
    if (listTopics !== undefined) {
      // Warnings only: a consumer waits for its topic, so the file is valid either way.
      const topics = await listTopics(config.kafka);
      const warnings = typeof topics === "string"
        ? [`warning: ${topics}: topics not checked`]
        : missingTopicWarnings(config, topics, path);
      for (const warning of warnings) err(warning);
    }
    return 0;
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    for (const issue of error.issues) err(formatIssue(issue));
    return 1;
  }
}

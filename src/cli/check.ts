/**
 * `consumerd check`: validate a config file without starting anything.
 *
 * @module
 */
import { relative } from "node:path";
import process from "node:process";
import { ConfigError, formatIssue } from "../config/error.ts";
import { loadConfigFile } from "../config/load.ts";
import type { ConsumerConfig } from "../config/types.ts";

/** Where a command writes its lines (stdout and stderr by default). */
export interface CommandOutput {
  /** Receives result lines (stdout). */
  out?: (line: string) => void;
  /** Receives error lines (stderr). */
  err?: (line: string) => void;
}

/**
 * One line describing a consumer, e.g.
 * `audit group=g topic=orders mode=balanced partitions=all replicas=1 …`.
 *
 * @example
 * ```ts
 * summarizeConsumer(config.consumers[0], "/srv");
 * ```
 */
export function summarizeConsumer(consumer: ConsumerConfig, cwd: string): string {
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
    `handler=${relative(cwd, consumer.handler)}`,
  ];
  return `${consumer.name} ${fields.join(" ")}`;
}

/**
 * Validates the config file (schema, rules and handler modules). Prints `ok`
 * and one line per consumer to stdout and returns 0; or prints every problem
 * to stderr, one per line as `file:line:col path: message`, and returns 1.
 *
 * @example
 * ```ts
 * const code = await checkCommand({ config: "consumers.yaml" });
 * ```
 */
export async function checkCommand(
  args: { config: string },
  { out = console.log, err = console.error }: CommandOutput = {},
): Promise<number> {
  try {
    const config = await loadConfigFile(args.config);
    out("ok");
    const cwd = process.cwd();
    for (const consumer of config.consumers) out(summarizeConsumer(consumer, cwd));
    return 0;
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    for (const issue of error.issues) err(formatIssue(issue));
    return 1;
  }
}

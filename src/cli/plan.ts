/**
 * `consumerd check --diff`: what a reload of the config file would do to a
 * running daemon, read from its `/status`, without doing it.
 *
 * The daemon's `/status` must carry `config.fingerprints` (`kafka`, `http`)
 * and, per consumer, `fingerprint` (`definition`, `handler`, `replicas`):
 * the same fingerprints this command computes from the file.
 *
 * @module
 */
import { ConfigError, formatIssue } from "../config/error.ts";
import { type HandlerCheck, loadConfigFile } from "../config/load.ts";
import type { Config } from "../config/types.ts";
import {
  changesAnything,
  type ConfigDiff,
  diffConfigs,
  isReconnect,
} from "../supervisor/config_diff.ts";
import {
  type ConfigSnapshot,
  configSnapshot,
  type ConsumerSnapshot,
} from "../supervisor/fingerprint.ts";
import { moduleGraph } from "../supervisor/module_graph.ts";
import type { CommandOutput } from "./check.ts";
import { isJsonObject, readDaemonStatus } from "./daemon_status.ts";

/** Default address of a daemon's status server. */
export const DEFAULT_STATUS_URL = "http://127.0.0.1:9464";

/** What the plan needs from a daemon's `/status`. */
export interface RunningConfig {
  path: string;
  revision: number;
  snapshot: ConfigSnapshot;
}

/**
 * Reads the running config's fingerprints out of a `/status` body.
 *
 * @throws {TypeError} naming the first field that is missing or of the wrong type.
 * @example
 * ```ts
 * runningConfig(await (await fetch("http://127.0.0.1:9464/status")).json());
 * ```
 */
export function runningConfig(status: unknown): RunningConfig {
  const fail = (path: string, expected: string): never => {
    throw new TypeError(
      `Cannot plan a reload as the daemon's /status has no ${path} (${expected}); ` +
        "is the daemon older than this command?",
    );
  };
  if (!isJsonObject(status)) return fail("body", "a JSON object");
  const config = status.config;
  if (!isJsonObject(config)) return fail("config", "an object");
  const prints = config.fingerprints;
  if (
    !isJsonObject(prints) || typeof prints.kafka !== "string" || typeof prints.http !== "string"
  ) {
    return fail("config.fingerprints", "{ kafka, http } strings");
  }
  if (!Array.isArray(status.consumers)) return fail("consumers", "a list");
  const consumers = status.consumers.map((c: unknown, i: number): ConsumerSnapshot => {
    const f = isJsonObject(c) ? c.fingerprint : undefined;
    if (
      !isJsonObject(c) || typeof c.name !== "string" || !isJsonObject(f) ||
      typeof f.definition !== "string" || typeof f.handler !== "string" ||
      typeof f.replicas !== "number"
    ) {
      return fail(`consumers[${i}].fingerprint`, "{ definition, handler, replicas }");
    }
    return { name: c.name, definition: f.definition, handler: f.handler, replicas: f.replicas };
  });
  return {
    path: typeof config.path === "string" ? config.path : "",
    revision: typeof config.revision === "number" ? config.revision : 0,
    snapshot: { kafka: prints.kafka, http: prints.http, consumers },
  };
}

/**
 * The file's snapshot as the daemon would compute it (handlers and the local
 * modules they import read from disk when `reload.handlers` is on; secrets
 * left out of the kafka fingerprint).
 */
export async function fileSnapshot(config: Config): Promise<ConfigSnapshot> {
  const handlers = new Map<string, string>();
  if (config.reload.handlers) {
    for (const c of config.consumers) {
      handlers.set(c.handler, (await moduleGraph(c.handler)).fingerprint);
    }
  }
  return configSnapshot(config, handlers, { redact: true });
}

/** Compares the file with the running config (handlers ignored on both sides when off in the file). */
export function planDiff(
  running: ConfigSnapshot,
  file: ConfigSnapshot,
  handlers: boolean,
): ConfigDiff {
  const strip = (s: ConfigSnapshot): ConfigSnapshot =>
    handlers ? s : { ...s, consumers: s.consumers.map((c) => ({ ...c, handler: "" })) };
  return diffConfigs(strip(running), strip(file));
}

const REASONS: Record<string, string> = {
  definition: "definition changed",
  handler: "handler module changed",
  kafka: "kafka changed",
};

/**
 * The plan as lines for people.
 *
 * @example
 * ```ts
 * renderPlan(diff, { file: "consumers.yaml", url: "http://127.0.0.1:9464", revision: 3 });
 * ```
 */
export function renderPlan(
  diff: ConfigDiff,
  { file, url, revision, daemonPath = null }: {
    file: string;
    url: string;
    revision: number;
    daemonPath?: string | null;
  },
): string[] {
  const lines = [`reload plan for ${file} against ${url} (running revision ${revision}):`];
  if (daemonPath !== null && daemonPath !== "" && daemonPath !== file) {
    lines.push(`  note: the daemon runs ${daemonPath}, not this file`);
  }
  const row = (mark: string, name: string, what: string) =>
    lines.push(`  ${mark} ${name.padEnd(24)} ${what}`);
  for (const name of diff.added) row("+", name, "start");
  for (const name of diff.removed) row("-", name, "drain and stop");
  for (const r of diff.restarted) {
    if (isReconnect(r)) {
      row("~", r.name, "drain and reconnect (kafka changed; resumes, resets nothing)");
    } else row("~", r.name, `drain and restart (${r.reasons.map((x) => REASONS[x]).join(", ")})`);
  }
  for (const s of diff.scaled) row("^", s.name, `scale from ${s.from} to ${s.to} replicas`);
  for (const name of diff.unchanged) row("=", name, "leave alone");
  lines.push(
    `  kafka: ${diff.kafkaChanged ? "changed (every consumer reconnects)" : "unchanged"}; ` +
      `http: ${diff.httpChanged ? "changed (the status server rebinds)" : "unchanged"}`,
  );
  if (!changesAnything(diff)) {
    lines.push("a reload would change nothing");
  } else {
    const n = (count: number, verb: string) => count > 0 ? [`${verb} ${count}`] : [];
    lines.push(
      `a reload would ${
        [
          ...n(diff.added.length, "start"),
          ...n(diff.removed.length, "stop"),
          ...n(diff.restarted.filter((r) => !isReconnect(r)).length, "restart"),
          ...n(diff.restarted.filter(isReconnect).length, "reconnect"),
          ...n(diff.scaled.length, "scale"),
          ...n(diff.unchanged.length, "leave alone"),
        ].join(", ")
      }`,
    );
  }
  return lines;
}

/**
 * Validates the file as `check` does, reads the daemon's `/status`, and
 * prints what a reload would do. Returns 0, 1 (invalid file) or 2 (the
 * daemon could not be asked).
 *
 * @example
 * ```ts
 * await planCommand({ config: "consumers.yaml", url: "http://127.0.0.1:9464" });
 * ```
 */
export async function planCommand(
  args: {
    config: string;
    url: string;
    token?: string | undefined;
    /** Checks one handler module as `check` does (see `CheckOptions.probeHandler`). */
    probeHandler?: (check: HandlerCheck) => Promise<string | undefined>;
  },
  { out = console.log, err = console.error }: CommandOutput = {},
): Promise<number> {
  let config: Config;
  try {
    config = await loadConfigFile(
      args.config,
      args.probeHandler ? { probeHandler: args.probeHandler } : {},
    );
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    for (const issue of error.issues) err(formatIssue(issue));
    err("a reload of this file would be rejected: every consumer would keep running as before");
    return 1;
  }
  let running: RunningConfig;
  try {
    const answer = await readDaemonStatus(args.url, args.token);
    if (answer.kind !== "status") throw new Error(answer.reason);
    running = runningConfig(answer.body);
  } catch (error) {
    err(
      `error: cannot read the daemon's status at ${args.url}: ${
        error instanceof Error ? error.message : String(error)
      }`,
    );
    return 2;
  }
  const diff = planDiff(running.snapshot, await fileSnapshot(config), config.reload.handlers);
  for (
    const line of renderPlan(diff, {
      file: config.path,
      url: args.url,
      revision: running.revision,
      daemonPath: running.path,
    })
  ) out(line);
  return 0;
}

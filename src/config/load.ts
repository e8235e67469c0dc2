/**
 * Loads consumers.yaml from disk: a bounded read, then {@linkcode analyzeConfig},
 * then a check of every handler module. Works on Deno and Bun (node:fs).
 *
 * @module
 */
import { open } from "node:fs/promises";
import { resolve } from "node:path";
import { ConfigError, type ConfigIssue } from "./error.ts";
import {
  failureProblem,
  HANDLER_IMPORT_TIMEOUT_MS,
  type HandlerFailure,
  handlerFailure,
} from "./handler.ts";
import { handlerProject } from "./handler_project.ts";
import { MAX_CONFIG_BYTES, sizeProblem } from "./limits.ts";
import { analyzeConfig } from "./parse.ts";
import type { ConsumerPlace } from "./permission_denial.ts";
import type { Config, ConsumerConfig, KafkaConfig } from "./types.ts";

export { ConfigError, type ConfigIssue, formatIssue } from "./error.ts";
export { analyzeConfig, parseConfig, type ParseConfigOptions } from "./parse.ts";
export { redactConfig } from "./redact.ts";

/** One handler module to check, with what its worker would run with, where the file says. */
export interface HandlerCheck {
  /** Absolute path of the module. */
  path: string;
  /** How long importing it may take, ms: the consumer's `startupTimeoutMs` when it is known. */
  timeoutMs: number;
  /** The setting `timeoutMs` comes from (`startupTimeoutMs`), or undefined for the loader's default. */
  timeoutName: string | undefined;
  /** The consumer whose handler it is, resolved; undefined when its definition is invalid. */
  consumer: ConsumerConfig | undefined;
  /** The `kafka:` section, resolved; undefined when it is invalid. */
  kafka: KafkaConfig | undefined;
  /** Where the consumer is written (for a permission denial in the config's terms); undefined when invalid. */
  place?: ConsumerPlace | undefined;
}

/** Options for {@linkcode loadConfigFile}. */
export interface LoadConfigOptions {
  /** Variables for `${VAR}` interpolation; defaults to the process environment. */
  env?: Record<string, string | undefined>;
  /** Import each handler module and check its exports (default `true`). */
  checkHandlers?: boolean;
  /**
   * How long a handler module may take to load when its consumer's
   * `startupTimeoutMs` is not known (its definition is invalid); default 10 s.
   */
  handlerTimeoutMs?: number;
  /** Largest accepted file in bytes (default 1 MiB). */
  maxBytes?: number;
  /**
   * Checks one consumer's handler module; default: import it in this process
   * (once per path). A running daemon checks in a fresh worker instead, with
   * that consumer's worker's permissions, so that an edited module is read
   * anew and its top-level code sees no more than its worker would.
   */
  probeHandler?: (check: HandlerCheck) => Promise<string | undefined>;
}

/** {@linkcode handlerProblem} in this process, once per path and deadline. */
function inProcessProbe(): (check: HandlerCheck) => Promise<string | undefined> {
  const seen = new Map<string, Promise<HandlerFailure | undefined>>();
  return async ({ path, timeoutMs, timeoutName, place, consumer }) => {
    const ordering = consumer?.ordering;
    const key = `${timeoutMs}\0${timeoutName}\0${ordering}\0${path}`;
    let failure = seen.get(key);
    if (failure === undefined) {
      failure = handlerFailure(path, { timeoutMs, timeoutName, ordering });
      seen.set(key, failure);
    }
    const found = await failure;
    return found === undefined ? undefined : failureProblem(found, {
      place,
      handler: path,
      projectRoot: handlerProject(path)?.root ?? null,
    });
  };
}

function readProblem(error: unknown): string {
  const code = (error as { code?: unknown }).code;
  if (code === "ENOENT") return "cannot read the config file: it does not exist";
  if (code === "EISDIR") return "cannot read the config file: it is a directory";
  if (code === "EACCES" || code === "EPERM") {
    return "cannot read the config file: permission denied";
  }
  return `cannot read the config file: ${error instanceof Error ? error.message : String(error)}`;
}

/** Reads at most `maxBytes + 1` bytes, so a huge file is never loaded whole. */
async function readBounded(path: string, maxBytes: number): Promise<string | ConfigIssue> {
  const at = { file: path, line: 1, column: 1, path: "" };
  let handle;
  try {
    handle = await open(resolve(path), "r");
  } catch (error) {
    return { ...at, message: readProblem(error) };
  }
  try {
    const info = await handle.stat();
    if (info.isDirectory()) return { ...at, message: readProblem({ code: "EISDIR" }) };
    const tooBig = sizeProblem(info.size, maxBytes);
    if (tooBig !== undefined) return { ...at, message: tooBig };
    const buffer = new Uint8Array(maxBytes + 1);
    let length = 0;
    while (length < buffer.length) {
      const { bytesRead } = await handle.read(buffer, length, buffer.length - length, null);
      if (bytesRead === 0) break;
      length += bytesRead;
    }
    if (length > maxBytes) return { ...at, message: sizeProblem(length, maxBytes) ?? "too big" };
    try {
      return new TextDecoder("utf-8", { fatal: true }).decode(buffer.subarray(0, length));
    } catch {
      return { ...at, message: "expected UTF-8 text, found invalid UTF-8 bytes" };
    }
  } catch (error) {
    return { ...at, message: readProblem(error) };
  } finally {
    await handle.close();
  }
}

/**
 * Reads, interpolates and validates a config file, then checks that every
 * handler module exists and exports a default function or `handleBatch`.
 *
 * @param path The config file; relative paths in it are relative to its directory.
 * @throws {ConfigError} with every problem found (unreadable file, YAML, schema,
 *   rules across consumers, handler modules), ordered by position.
 * @example
 * ```ts
 * const config = await loadConfigFile("consumers.yaml");
 * for (const consumer of config.consumers) console.log(consumer.name, consumer.handler);
 * ```
 */
export async function loadConfigFile(
  path: string,
  options: LoadConfigOptions = {},
): Promise<Config> {
  const {
    env,
    checkHandlers = true,
    handlerTimeoutMs = HANDLER_IMPORT_TIMEOUT_MS,
    maxBytes = MAX_CONFIG_BYTES,
    probeHandler = inProcessProbe(),
  } = options;
  const text = await readBounded(path, maxBytes);
  if (typeof text !== "string") throw new ConfigError([text]);
  const analysis = analyzeConfig(
    text,
    env === undefined ? { file: path, maxBytes } : { file: path, env, maxBytes },
  );
  const issues = [...analysis.issues];
  if (checkHandlers) {
    const problems = analysis.handlers.map((handler) =>
      probeHandler({
        path: handler.path,
        // The worker's own deadline for loading: a slower valid module is not refused.
        timeoutMs: handler.consumer?.startupTimeoutMs ?? handlerTimeoutMs,
        timeoutName: handler.consumer === undefined ? undefined : "startupTimeoutMs",
        consumer: handler.consumer,
        kafka: analysis.kafka,
        place: handler.place,
      })
    );
    const seen = new Set<string>();
    for (const [i, handler] of analysis.handlers.entries()) {
      const problem = await problems[i];
      const key = `${handler.at.line}:${handler.at.column}`;
      if (problem === undefined || seen.has(key)) continue;
      seen.add(key);
      issues.push({ ...handler.at, message: problem });
    }
  }
  if (issues.length > 0 || analysis.config === undefined) {
    throw new ConfigError(issues.sort((a, b) => a.line - b.line || a.column - b.column));
  }
  return analysis.config;
}

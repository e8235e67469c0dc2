/**
 * Parses the text of consumers.yaml into a resolved {@linkcode Config}:
 * YAML → `${VAR}` interpolation → schema validation → `defaults:` merged into
 * each consumer → rules across consumers. Pure apart from reading the
 * environment; the handler files are checked by `loadConfigFile`.
 *
 * @module
 */
import { dirname, resolve } from "node:path";
import process from "node:process";
import { checkConsumerSet, type IndexedConsumer } from "./consumer_set.ts";
import { checkEngineFeatures } from "./engine_rules.ts";
import { type EnvLookup, interpolateDocument } from "./env.ts";
import { ConfigError, type ConfigIssue } from "./error.ts";
import { explainIssues } from "./explain.ts";
import { MAX_CONFIG_BYTES } from "./limits.ts";
import { type FieldPath, formatPath } from "./locate.ts";
import type { ConsumerPlace, FieldPlace, GrantableKind } from "./permission_denial.ts";
import { applyDefaults, fieldOrigin, isMapping } from "./merge.ts";
import { envSettingPaths, valueAt } from "./settings.ts";
import { ConfigFileSchema, ConsumerSchema, KafkaSchema } from "./schema.ts";
import type { Config, ConsumerConfig, KafkaConfig, TopicPlace } from "./types.ts";
import { parseYaml, plainValue } from "./yaml_document.ts";

/** Options for {@linkcode parseConfig}. */
export interface ParseConfigOptions {
  /** The file the text came from: named in issues, and the base of relative paths. */
  file: string;
  /** Variables for `${VAR}`; defaults to the process environment. */
  env?: Record<string, string | undefined>;
  /** Largest accepted text in UTF-8 bytes; default {@linkcode MAX_CONFIG_BYTES}. */
  maxBytes?: number;
}

/** A consumer's handler module, to be checked by the loader. */
export interface HandlerReference {
  /** Absolute path of the module. */
  path: string;
  /** Where the handler is named in the file (the issue to report it with). */
  at: Omit<ConfigIssue, "message">;
  /** The consumer, resolved, when its own definition (`defaults:` applied) is valid. */
  consumer: ConsumerConfig | undefined;
  /** Where the consumer and its permission lists are written, when its definition is valid. */
  place: ConsumerPlace | undefined;
}

/** Everything {@linkcode analyzeConfig} learnt about a config text. */
export interface ConfigAnalysis {
  /** The resolved config, when there are no issues. */
  config: Config | undefined;
  /** Every problem found, ordered by position. */
  issues: ConfigIssue[];
  /** The handler of every consumer that names one, valid or not. */
  handlers: HandlerReference[];
  /** The `kafka:` section, resolved, when it is valid (even if other parts are not). */
  kafka: KafkaConfig | undefined;
}

function envLookup(env: Record<string, string | undefined> | undefined): EnvLookup {
  if (env === undefined) {
    return (name) => {
      const value = process.env[name];
      return typeof value === "string" ? value : undefined;
    };
  }
  return (name) => {
    const value = Object.hasOwn(env, name) ? env[name] : undefined;
    return typeof value === "string" ? value : undefined;
  };
}

function byPosition(a: ConfigIssue, b: ConfigIssue): number {
  return a.line - b.line || a.column - b.column;
}

function unique(issues: ConfigIssue[]): ConfigIssue[] {
  const seen = new Set<string>();
  return issues.filter((issue) => {
    const key = JSON.stringify([issue.line, issue.column, issue.path, issue.message]);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/**
 * Parses, interpolates and validates a config text, collecting every issue
 * instead of stopping at the first. Never throws for bad input.
 *
 * @example
 * ```ts
 * const { config, issues } = analyzeConfig(text, { file: "consumers.yaml" });
 * ```
 */
export function analyzeConfig(text: string, options: ParseConfigOptions): ConfigAnalysis {
  const { file, env, maxBytes = MAX_CONFIG_BYTES } = options;
  const failed = (issues: ConfigIssue[]): ConfigAnalysis => ({
    config: undefined,
    issues: issues.sort(byPosition),
    handlers: [],
    kafka: undefined,
  });

  // 1. YAML, after the size and nesting guards.
  const yaml = parseYaml(text, { file, maxBytes });
  if (yaml.document === undefined) return failed(yaml.issues);
  const { doc, locator } = yaml.document;

  // 2. ${VAR} interpolation, on scalar values only.
  const interpolation = interpolateDocument(doc, envLookup(env));
  const envIssues = interpolation.errors.map((error): ConfigIssue => ({
    file,
    ...locator.offsetPosition(error.sourceOffset),
    path: formatPath(error.path),
    message: error.message,
  }));
  const failedPaths = new Set(envIssues.map((issue) => issue.path));
  const interpolatedPaths = new Set(interpolation.interpolated.map(formatPath));
  // What `${VAR}` produced: such values in settings are never shown, fingerprints included.
  const fromEnv = (value: unknown) =>
    new Set(
      interpolation.interpolated.map((path) => valueAt(value, path))
        .filter((v): v is string => typeof v === "string" && v !== ""),
    );

  // 3. Plain values, aliases expanded within limits.
  const plain = plainValue(doc, locator, file);
  if (!plain.ok) return failed([...yaml.issues, ...envIssues, plain.issue]);
  const raw = plain.value;
  if (!isMapping(raw)) {
    const found = Array.isArray(raw) ? "a list" : JSON.stringify(raw);
    const message = "expected a mapping at the top level (consumers, and optionally kafka, " +
      `http, shutdown, reload, defaults), found ${found}`;
    return failed([...yaml.issues, ...envIssues, { file, line: 1, column: 1, path: "", message }]);
  }

  // 4. The file as written.
  const issues: ConfigIssue[] = [];
  const at = (path: FieldPath, message: string, key = false): ConfigIssue => ({
    file,
    ...locator.position(path, { key }),
    path: formatPath(path),
    message,
  });
  const interpolated = (path: FieldPath) => interpolatedPaths.has(formatPath(path));
  const reported = new Set<string>();
  const report = (path: FieldPath, message: string, key = false) => {
    reported.add(`${formatPath(path)}\0${message}`);
    issues.push(at(path, message, key));
  };
  const fileResult = ConfigFileSchema.safeParse(raw);
  if (!fileResult.success) {
    const findings = explainIssues(fileResult.error.issues, {
      schema: ConfigFileSchema,
      input: raw,
      filePath: (path) => path,
      interpolated,
    });
    for (const finding of findings) report(finding.path, finding.message, finding.atKey);
  }

  // 5. Each consumer with defaults applied, then the rules across consumers.
  const exists = (path: FieldPath) => locator.has(path);
  const line = (path: FieldPath) => locator.position(path).line;
  const baseDir = dirname(resolve(file));
  const valid: IndexedConsumer[] = [];
  const handlers: HandlerReference[] = [];
  const lines: NonNullable<Config["lines"]> = {};
  const rawConsumers = Array.isArray(raw.consumers) ? raw.consumers : [];
  const rawDefaults = raw.defaults;
  rawConsumers.forEach((entry: unknown, index: number) => {
    if (!isMapping(entry)) return; // reported in step 5
    const merged = applyDefaults(rawDefaults, entry);
    const origin = (path: FieldPath) => fieldOrigin(index, path, exists);
    const result = ConsumerSchema.safeParse(merged);
    // Only a consumer whose own fields are all known is resolved ({VAR} failures included).
    const own = (path: string) =>
      path === `consumers[${index}]` || path === "defaults" ||
      path.startsWith(`consumers[${index}].`) || path.startsWith("defaults.");
    const resolved = result.success && ![...failedPaths].some(own)
      ? resolvePaths(result.data, baseDir)
      : undefined;
    const place = result.success
      ? consumerPlace(index, result.data.name, { file, exists, origin, line })
      : undefined;
    if (typeof merged.handler === "string" && merged.handler !== "") {
      const { message: _, ...where } = at(origin(["handler"]), "");
      if (!failedPaths.has(where.path)) {
        handlers.push({
          path: resolve(baseDir, merged.handler),
          at: where,
          consumer: resolved,
          place,
        });
      }
    }
    if (result.success) {
      valid.push({ index, consumer: result.data });
      lines[result.data.name] = {
        topic: line(origin(["topic"])),
        handler: line(origin(["handler"])),
        place: place!,
        topics: [
          ...TOPIC_FIELDS.flatMap((field) => {
            const path = origin([field]);
            return exists(path)
              ? [{ field, path: formatPath(path), ...locator.position(path) }]
              : [];
          }),
          ...result.data.outputs.map((_, item): TopicPlace => {
            const path = [...origin(["outputs"]), item];
            return { field: "outputs", item, path: formatPath(path), ...locator.position(path) };
          }),
        ],
      };
      return;
    }
    const findings = explainIssues(result.error.issues, {
      schema: ConsumerSchema,
      input: merged,
      filePath: origin,
      interpolated,
    });
    for (const finding of findings) {
      // `name` never comes from defaults: step 5 reported its problems.
      if (finding.path[0] === "name") continue;
      const path = origin(finding.path);
      if (reported.has(`${formatPath(path)}\0${finding.message}`)) continue;
      if (finding.missing) {
        report(path, `${finding.message}: set it in the consumer or in defaults`);
      } else if (path[0] === "defaults") {
        const name = typeof entry.name === "string" ? ` "${entry.name}"` : "";
        report(path, `${finding.message} (for consumers[${index}]${name})`, finding.atKey);
      } else {
        report(path, finding.message, finding.atKey);
      }
    }
  });
  for (const problem of checkConsumerSet(valid)) {
    report(fieldOrigin(problem.index, problem.path, exists), problem.message);
  }
  const kafkaResult = KafkaSchema.safeParse(raw.kafka);
  if (kafkaResult.success) {
    for (const problem of checkEngineFeatures(kafkaResult.data, valid)) {
      report(
        problem.index === null ? problem.path : fieldOrigin(problem.index, problem.path, exists),
        problem.message,
      );
    }
  }

  // A value whose ${VAR} failed is reported once, for the variable.
  const all = unique([
    ...yaml.issues,
    ...envIssues,
    ...issues.filter((issue) => !failedPaths.has(issue.path)),
  ]).sort(byPosition);
  if (all.length > 0 || !fileResult.success) {
    const kafkaFailed = [...failedPaths].some((p) => p === "kafka" || p.startsWith("kafka."));
    const kafka = kafkaResult.success && !kafkaFailed ? kafkaResult.data : undefined;
    return { config: undefined, issues: all, handlers, kafka };
  }

  const { kafka, http, shutdown, reload } = fileResult.data;
  const consumers = valid.map(({ consumer }) => resolvePaths(consumer, baseDir));
  const envValues = fromEnv(raw);
  const settingsFromEnv: NonNullable<Config["settingsFromEnv"]> = {};
  for (const consumer of consumers) {
    const paths = envSettingPaths(consumer.settings, envValues);
    if (paths.length > 0) settingsFromEnv[consumer.name] = paths;
  }
  return {
    config: {
      path: resolve(file),
      kafka,
      http: http.listen,
      // An empty token (`${CONSUMERD_TOKEN:-}` unset) means none.
      httpToken: http.token.trim() === "" ? null : http.token,
      httpAllowedHosts: http.allowedHosts,
      shutdown,
      reload,
      consumers,
      lines,
      settingsFromEnv,
    },
    issues: [],
    handlers,
    kafka,
  };
}

const GRANTABLE_KINDS: readonly GrantableKind[] = ["net", "read", "write", "env"];
/** The consumer fields that name one topic (`outputs` names a list of them). */
const TOPIC_FIELDS = ["topic", "deadLetterTopic"] as const;

/** Where consumer `index` is written, and each permission list that applies to it (its own, or `defaults:`). */
function consumerPlace(
  index: number,
  name: string,
  { file, exists, origin, line }: {
    file: string;
    exists: (path: FieldPath) => boolean;
    origin: (path: FieldPath) => FieldPath;
    line: (path: FieldPath) => number;
  },
): ConsumerPlace {
  const permissions: Partial<Record<GrantableKind, FieldPlace>> = {};
  for (const kind of GRANTABLE_KINDS) {
    const path = origin(["permissions", kind]);
    if (exists(path)) permissions[kind] = { path: formatPath(path), line: line(path) };
  }
  const outputs = origin(["outputs"]);
  return {
    index,
    name,
    file,
    line: line(["consumers", index]),
    permissions,
    ...(exists(outputs) ? { outputs: { path: formatPath(outputs), line: line(outputs) } } : {}),
  };
}

function resolvePaths(consumer: ConsumerConfig, baseDir: string): ConsumerConfig {
  return {
    ...consumer,
    handler: resolve(baseDir, consumer.handler),
    permissions: {
      ...consumer.permissions,
      read: consumer.permissions.read.map((path) => resolve(baseDir, path)),
      write: consumer.permissions.write.map((path) => resolve(baseDir, path)),
    },
  };
}

/**
 * Parses, interpolates and validates a config text (without checking the
 * handler files; {@linkcode loadConfigFile} does that too).
 *
 * @throws {ConfigError} with every issue in the text.
 * @example
 * ```ts
 * const config = parseConfig("consumers:\n  - { name: a, group: g, topic: t, handler: ./a.ts }\n", {
 *   file: "/etc/consumerd/consumers.yaml",
 * });
 * config.consumers[0]?.handler; // "/etc/consumerd/a.ts"
 * ```
 */
export function parseConfig(text: string, options: ParseConfigOptions): Config {
  const { config, issues } = analyzeConfig(text, options);
  if (config === undefined) throw new ConfigError(issues);
  return config;
}

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
import { LineCounter, parseDocument, visit, type YAMLError } from "yaml";
import { checkConsumerSet, type IndexedConsumer } from "./consumer_set.ts";
import { type EnvLookup, interpolateDocument } from "./env.ts";
import { ConfigError, type ConfigIssue } from "./error.ts";
import { explainIssues } from "./explain.ts";
import {
  flowDepthOverflow,
  MAX_ALIAS_COUNT,
  MAX_CONFIG_BYTES,
  MAX_FLOW_DEPTH,
  sizeProblem,
  utf8Length,
} from "./limits.ts";
import { type FieldPath, formatPath, Locator } from "./locate.ts";
import { applyDefaults, fieldOrigin, isMapping } from "./merge.ts";
import { ConfigFileSchema, ConsumerSchema } from "./schema.ts";
import type { Config, ConsumerConfig } from "./types.ts";

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
}

/** Everything {@linkcode analyzeConfig} learnt about a config text. */
export interface ConfigAnalysis {
  /** The resolved config, when there are no issues. */
  config: Config | undefined;
  /** Every problem found, ordered by position. */
  issues: ConfigIssue[];
  /** The handler of every consumer that names one, valid or not. */
  handlers: HandlerReference[];
}

/** YAML errors after which the document still has a trustworthy structure. */
const SOFT_YAML_ERRORS: ReadonlySet<string> = new Set(["DUPLICATE_KEY"]);

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

function yamlMessage(error: YAMLError): string {
  // With prettyErrors off the message has no source excerpt (which could
  // show a secret); keep its first line only, to be sure.
  const first = error.message.split("\n")[0] ?? error.message;
  return first.replace(/ at line \d+, column \d+:?$/, "");
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
  const fail = (message: string, line = 1, column = 1): ConfigAnalysis => ({
    config: undefined,
    issues: [{ file, line, column, path: "", message }],
    handlers: [],
  });

  // 1. Guards that must run before the parser.
  const size = text.length > maxBytes ? text.length : utf8Length(text);
  const tooBig = sizeProblem(size, maxBytes);
  if (tooBig !== undefined) return fail(tooBig);
  if (text.startsWith("\uFEFF")) text = text.slice(1);
  const lineCounter = new LineCounter();
  const deepAt = flowDepthOverflow(text, MAX_FLOW_DEPTH);
  if (deepAt !== undefined) {
    // Count lines by hand: the parser has not run.
    const before = text.slice(0, deepAt);
    const line = before.split("\n").length;
    const column = deepAt - before.lastIndexOf("\n");
    return fail(
      `expected [ and { nested at most ${MAX_FLOW_DEPTH} deep, found deeper nesting`,
      line,
      column,
    );
  }

  // 2. YAML.
  const doc = parseDocument(text, {
    lineCounter,
    prettyErrors: false,
    merge: true,
    uniqueKeys: true,
  });
  const locator = new Locator(doc, lineCounter);
  const issues: ConfigIssue[] = [];
  const at = (path: FieldPath, message: string, key = false): ConfigIssue => ({
    file,
    ...locator.position(path, { key }),
    path: formatPath(path),
    message,
  });
  let hardYamlError = false;
  for (const error of [...doc.errors, ...doc.warnings]) {
    const position = locator.offsetPosition(error.pos[0]);
    if (error.code === "DUPLICATE_KEY") {
      const duplicate = locator.keyAt(error.pos[0]);
      const earlier = duplicate?.earlierOffset === undefined
        ? ""
        : ` (first set at line ${locator.offsetPosition(duplicate.earlierOffset).line})`;
      const key = duplicate?.path[duplicate.path.length - 1];
      issues.push({
        file,
        ...position,
        path: duplicate === undefined ? "" : formatPath(duplicate.path),
        message: `duplicate key${key === undefined ? "" : ` ${JSON.stringify(key)}`}${earlier}: ` +
          "each key may appear once in a mapping",
      });
    } else if (error.code === "MULTIPLE_DOCS") {
      issues.push({
        file,
        ...position,
        path: "",
        message: "expected one YAML document, found a second one after a --- line",
      });
    } else {
      const kind = error.name === "YAMLWarning" ? "YAML problem" : "YAML syntax error";
      const lineText = text.split("\n", position.line)[position.line - 1] ?? "";
      const hint = /[[{].*\$\{/.test(lineText)
        ? ' (inside [ ] or { }, quote "${VAR}" expressions)'
        : "";
      issues.push({
        file,
        ...position,
        path: "",
        message: `${kind}: ${yamlMessage(error)}${hint}`,
      });
    }
    if (error.name === "YAMLParseError" && !SOFT_YAML_ERRORS.has(error.code)) hardYamlError = true;
  }
  const yamlIssueCount = issues.length;
  if (hardYamlError) {
    return { config: undefined, issues: unique(issues).sort(byPosition), handlers: [] };
  }
  if (doc.contents === null) {
    return fail(
      "the file is empty: expected a mapping with at least a consumers: list " +
        "(and optionally kafka, http, shutdown, defaults)",
    );
  }

  // 3. ${VAR} interpolation, on scalar values only.
  const interpolation = interpolateDocument(doc, envLookup(env));
  const failedPaths = new Set<string>();
  for (const error of interpolation.errors) {
    failedPaths.add(formatPath(error.path));
    issues.push({
      file,
      ...locator.offsetPosition(error.sourceOffset),
      path: formatPath(error.path),
      message: error.message,
    });
  }
  const interpolatedPaths = new Set(interpolation.interpolated.map(formatPath));

  // 4. Plain values (aliases expanded, within limits).
  let raw: unknown;
  try {
    raw = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (error) {
    if (error instanceof RangeError) return fail("the file nests too deeply to be a config file");
    let aliasOffset = 0;
    visit(doc, {
      Alias(_key, node) {
        aliasOffset = node.range?.[0] ?? 0;
        return visit.BREAK;
      },
    });
    const position = locator.offsetPosition(aliasOffset);
    return fail(
      `expected at most ${MAX_ALIAS_COUNT} alias expansions (*name), found more ` +
        '(an exponential "billion laughs" alias bomb?)',
      position.line,
      position.column,
    );
  }

  if (!isMapping(raw)) {
    const found = Array.isArray(raw) ? "a list" : JSON.stringify(raw);
    return fail(
      "expected a mapping at the top level (consumers, and optionally kafka, http, shutdown, " +
        `defaults), found ${found}`,
    );
  }

  // 5. The file as written.
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

  // 6. Each consumer with defaults applied, then the rules across consumers.
  const exists = (path: FieldPath) => locator.has(path);
  const baseDir = dirname(resolve(file));
  const valid: IndexedConsumer[] = [];
  const handlers: HandlerReference[] = [];
  const rawConsumers = Array.isArray(raw.consumers) ? raw.consumers : [];
  const rawDefaults = raw.defaults;
  rawConsumers.forEach((entry: unknown, index: number) => {
    if (!isMapping(entry)) return; // reported in step 5
    const merged = applyDefaults(rawDefaults, entry);
    const origin = (path: FieldPath) => fieldOrigin(index, path, exists);
    if (typeof merged.handler === "string" && merged.handler !== "") {
      const { message: _, ...where } = at(origin(["handler"]), "");
      handlers.push({ path: resolve(baseDir, merged.handler), at: where });
    }
    const result = ConsumerSchema.safeParse(merged);
    if (result.success) {
      valid.push({ index, consumer: result.data });
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

  // A value whose ${VAR} failed is reported once, for the variable.
  const interpolationIssues = new Set(
    issues.slice(0, interpolation.errors.length + yamlIssueCount),
  );
  const all = unique(issues)
    .filter((issue) => interpolationIssues.has(issue) || !failedPaths.has(issue.path))
    .sort(byPosition);
  if (all.length > 0 || !fileResult.success) return { config: undefined, issues: all, handlers };

  const { kafka, http, shutdown } = fileResult.data;
  const consumers = valid.map(({ consumer }) => resolvePaths(consumer, baseDir));
  return {
    config: { path: resolve(file), kafka, http: http.listen, shutdown, consumers },
    issues: [],
    handlers,
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

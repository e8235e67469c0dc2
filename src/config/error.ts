/**
 * The error a config file raises: every problem in it, each with a position.
 *
 * @module
 */

/** One problem found in a config file. */
export interface ConfigIssue {
  /** The config file, as the caller named it. */
  file: string;
  /** 1-based line of the offending value (1 when the whole file is at fault). */
  line: number;
  /** 1-based column of the offending value. */
  column: number;
  /** Field path, e.g. `consumers[2].autoOffsetReset`; `""` for the file as a whole. */
  path: string;
  /** What was expected and what was found; never contains a secret. */
  message: string;
}

/**
 * Formats an issue as one line: `file:line:col path: message`
 * (`file:line:col: message` when the issue has no field path).
 *
 * @example
 * ```ts
 * formatIssue({ file: "c.yaml", line: 3, column: 5, path: "kafka", message: "boom" });
 * // "c.yaml:3:5 kafka: boom"
 * ```
 */
export function formatIssue(issue: ConfigIssue): string {
  const where = `${issue.file}:${issue.line}:${issue.column}`;
  return issue.path === ""
    ? `${where}: ${issue.message}`
    : `${where} ${issue.path}: ${issue.message}`;
}

/**
 * Thrown when a config file is invalid; carries every problem found in it,
 * ordered by position.
 *
 * @example
 * ```ts
 * try {
 *   await loadConfigFile("consumers.yaml");
 * } catch (error) {
 *   if (error instanceof ConfigError) for (const issue of error.issues) console.error(formatIssue(issue));
 * }
 * ```
 */
export class ConfigError extends Error {
  /** Every problem found, ordered by line and column. */
  readonly issues: ConfigIssue[];

  /** Creates the error; its message lists every issue, one per line. */
  constructor(issues: ConfigIssue[]) {
    super(
      issues.length === 1
        ? formatIssue(issues[0] as ConfigIssue)
        : `${issues.length} problems in the configuration:\n${issues.map(formatIssue).join("\n")}`,
    );
    this.name = "ConfigError";
    this.issues = issues;
  }
}

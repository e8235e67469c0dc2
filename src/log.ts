/**
 * Structured logging: one JSON object per line on stderr, or a readable line
 * with `--log-format pretty`.
 *
 * @module
 */

/** Severity of a log record. */
export type LogLevel = "debug" | "info" | "warn" | "error";

/** Fields attached to a record; values must be JSON-serialisable. */
export type LogFields = Record<string, unknown>;

/** A logger bound to a set of fields (e.g. the consumer's name). */
export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
  /** A logger that adds `fields` to every record. */
  child(fields: LogFields): Logger;
}

/** Options for {@linkcode createLogger}. */
export interface LoggerOptions {
  format?: "json" | "pretty";
  level?: LogLevel;
  fields?: LogFields;
  /** Where lines go; defaults to `console.error`. */
  write?: (line: string) => void;
}

const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

/** Turns an error into plain, serialisable fields. */
export function errorFields(error: unknown): LogFields {
  if (error instanceof Error) {
    return { error: error.message, errorName: error.name };
  }
  return { error: String(error) };
}

/**
 * Creates a logger.
 *
 * @example
 * ```ts
 * const log = createLogger({ fields: { consumer: "audit" } });
 * log.info("assigned", { partitions: [0, 1] });
 * ```
 */
export function createLogger(
  { format = "json", level = "info", fields = {}, write = (l) => console.error(l) }: LoggerOptions =
    {},
): Logger {
  const min = ORDER[level];
  const emit = (lvl: LogLevel, message: string, extra?: LogFields) => {
    if (ORDER[lvl] < min) return;
    const record = {
      time: new Date().toISOString(),
      level: lvl,
      msg: message,
      ...fields,
      ...extra,
    };
    if (format === "json") {
      write(JSON.stringify(record, jsonSafe));
      return;
    }
    const rest = Object.entries({ ...fields, ...extra })
      .map(([k, v]) => `${k}=${typeof v === "string" ? v : JSON.stringify(v, jsonSafe)}`)
      .join(" ");
    write(`${record.time} ${lvl.toUpperCase().padEnd(5)} ${message}${rest ? ` ${rest}` : ""}`);
  };
  return {
    debug: (m, f) => emit("debug", m, f),
    info: (m, f) => emit("info", m, f),
    warn: (m, f) => emit("warn", m, f),
    error: (m, f) => emit("error", m, f),
    child: (extra) => createLogger({ format, level, fields: { ...fields, ...extra }, write }),
  };
}

function jsonSafe(_key: string, value: unknown): unknown {
  return typeof value === "bigint" ? value.toString() : value;
}

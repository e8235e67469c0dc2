/**
 * Turns zod validation issues into messages for people: what was expected,
 * what was found (never a secret), and a "did you mean" hint where one fits.
 *
 * @module
 */
import { z } from "zod";
import type { FieldPath } from "./locate.ts";
import { mayHoldSecret } from "./redact.ts";
import { didYouMean } from "./suggest.ts";

/** One explained problem, relative to the value that was validated. */
export interface Finding {
  path: FieldPath;
  message: string;
  /** The problem is the key at `path` (an unknown key), not its value. */
  atKey: boolean;
  /** A required field is missing. */
  missing: boolean;
}

/** What {@linkcode explainIssues} needs to know about the validated value. */
export interface ExplainContext {
  /** The schema that produced the issues. */
  schema: z.ZodType;
  /** The value that was validated. */
  input: unknown;
  /** The path in the file of a path in `input` (for secrets and `${VAR}` hints). */
  filePath: (path: FieldPath) => FieldPath;
  /** Whether the string at this file path came from `${VAR}` interpolation. */
  interpolated: (filePath: FieldPath) => boolean;
}

const MAX_SHOWN = 60;

/**
 * Describes a found value briefly: strings quoted (and shortened), numbers
 * as written, collections by kind; secrets by type only.
 *
 * @example
 * ```ts
 * describeValue("earlist"); // '"earlist"'
 * describeValue([1, 2]); // "a list"
 * describeValue("hunter2", { secret: true }); // "a string (hidden)"
 * ```
 */
export function describeValue(
  value: unknown,
  { secret = false }: { secret?: boolean } = {},
): string {
  if (value === undefined) return "nothing";
  if (value === null) return "null";
  if (Array.isArray(value)) return value.length === 0 ? "an empty list" : "a list";
  if (typeof value === "object") return "a mapping";
  if (secret) return `a ${typeof value} (hidden)`;
  if (typeof value === "string") {
    const shown = value.length > MAX_SHOWN ? `${value.slice(0, MAX_SHOWN)}…` : value;
    return JSON.stringify(shown);
  }
  return String(value);
}

const TYPE_NAMES: Record<string, string> = {
  string: "a string",
  number: "a number",
  int: "an integer",
  boolean: "true or false",
  object: "a mapping",
  array: "a list",
  null: "null",
};

const MAY_BE_MISSING: ReadonlySet<string> = new Set([
  "invalid_type",
  "invalid_value",
  "invalid_format",
  "invalid_union",
]);

function toPath(path: readonly PropertyKey[]): FieldPath {
  return path.map((segment) => typeof segment === "number" ? segment : String(segment));
}

function valueAt(input: unknown, path: FieldPath): unknown {
  let value = input;
  for (const segment of path) {
    if (value === null || typeof value !== "object") return undefined;
    const key = String(segment);
    if (!Object.hasOwn(value, key)) return undefined;
    value = (value as Record<string, unknown>)[key];
  }
  return value;
}

/** Peels wrappers (optional, default, pipe…) off a schema. */
function unwrap(schema: z.ZodType): z.ZodType {
  let current: z.ZodType = schema;
  for (;;) {
    if (
      current instanceof z.ZodOptional || current instanceof z.ZodNullable ||
      current instanceof z.ZodDefault || current instanceof z.ZodPrefault
    ) {
      current = current.unwrap() as z.ZodType;
    } else if (current instanceof z.ZodPipe) {
      current = current.in as z.ZodType;
    } else {
      return current;
    }
  }
}

/** The schemas that may validate the value at `path` (several below a union). */
function schemasAt(schema: z.ZodType, path: FieldPath): z.ZodType[] {
  const current = unwrap(schema);
  if (current instanceof z.ZodUnion) {
    return (current.options as z.ZodType[]).flatMap((option) => schemasAt(option, path));
  }
  if (path.length === 0) return [current];
  const [head, ...rest] = path;
  if (current instanceof z.ZodObject) {
    const shape = current.shape as Record<string, z.ZodType>;
    const child = Object.hasOwn(shape, String(head)) ? shape[String(head)] : undefined;
    return child === undefined ? [] : schemasAt(child, rest);
  }
  if (current instanceof z.ZodArray && typeof head === "number") {
    return schemasAt(current.element as z.ZodType, rest);
  }
  return [];
}

function objectKeysAt(schema: z.ZodType, path: FieldPath): string[] {
  for (const candidate of schemasAt(schema, path)) {
    if (candidate instanceof z.ZodObject) return Object.keys(candidate.shape);
  }
  return [];
}

function expectsInteger(schema: z.ZodType, path: FieldPath): boolean {
  return schemasAt(schema, path).some((candidate) =>
    candidate instanceof z.ZodNumber && candidate.isInt
  );
}

function bound(
  origin: string,
  isInteger: boolean,
  relation: ">=" | ">" | "<=" | "<",
  limit: number | bigint,
  found: unknown,
): string {
  if (origin === "string") {
    if (relation === ">=" && limit === 1) return "a non-empty string";
    return `a string of ${relation === ">=" ? "at least" : "at most"} ${limit} characters`;
  }
  if (origin === "array") {
    const items = `${limit} item${limit === 1 ? "" : "s"}`;
    return `a list of ${relation === ">=" ? "at least" : "at most"} ${items}` +
      (Array.isArray(found) && found.length > 0 ? ` (found ${found.length})` : "");
  }
  return `${isInteger ? "an integer" : "a number"} ${relation} ${limit}`;
}

/**
 * Explains zod issues, one finding per problem (an `unrecognized_keys` issue
 * gives one finding per key; an `invalid_union` issue whose value had the
 * right shape for one option gives that option's problems).
 *
 * @example
 * ```ts
 * const result = ConfigFileSchema.safeParse(value);
 * if (!result.success) {
 *   explainIssues(result.error.issues, { schema: ConfigFileSchema, input: value,
 *     filePath: (p) => p, interpolated: () => false });
 * }
 * ```
 */
export function explainIssues(
  issues: readonly z.core.$ZodIssue[],
  context: ExplainContext,
  prefix: FieldPath = [],
): Finding[] {
  const findings: Finding[] = [];
  for (const issue of issues) {
    const path = [...prefix, ...toPath(issue.path)];
    const found = valueAt(context.input, path);
    const filePath = context.filePath(path);
    const shown = describeValue(found, { secret: mayHoldSecret(filePath) });
    const push = (message: string, extra: Partial<Finding> = {}) =>
      findings.push({ path, message, atKey: false, missing: false, ...extra });
    if (found === undefined && path.length > 0 && MAY_BE_MISSING.has(issue.code)) {
      const field = String(path[path.length - 1]);
      const expected = issue.code === "invalid_type"
        ? TYPE_NAMES[issue.expected] ?? issue.expected
        : "";
      push(
        `missing required field ${JSON.stringify(field)}${expected === "" ? "" : ` (${expected})`}`,
        {
          missing: true,
        },
      );
      continue;
    }
    switch (issue.code) {
      case "invalid_type": {
        const expected = issue.expected === "number" && expectsInteger(context.schema, path)
          ? "an integer"
          : TYPE_NAMES[issue.expected] ?? issue.expected;
        const fromEnv = typeof found === "string" && context.interpolated(filePath) &&
            issue.expected !== "string"
          ? " (a ${VAR} value is always a string)"
          : "";
        push(`expected ${expected}, found ${shown}${fromEnv}`);
        break;
      }
      case "invalid_value": {
        const values = issue.values.map((value) => JSON.stringify(value));
        const expected = values.length === 1 ? values[0] : `one of ${values.join(", ")}`;
        const candidates = issue.values.filter((value): value is string =>
          typeof value === "string"
        );
        const hint = typeof found === "string" ? didYouMean(found, candidates) : "";
        push(`expected ${expected}, found ${shown}${hint}`);
        break;
      }
      case "too_small":
        push(
          `expected ${
            bound(
              issue.origin,
              expectsInteger(context.schema, path),
              issue.inclusive ? ">=" : ">",
              issue.minimum,
              found,
            )
          }, found ${shown}`,
        );
        break;
      case "too_big":
        push(
          `expected ${
            bound(
              issue.origin,
              expectsInteger(context.schema, path),
              issue.inclusive ? "<=" : "<",
              issue.maximum,
              found,
            )
          }, found ${shown}`,
        );
        break;
      case "unrecognized_keys": {
        const allowed = objectKeysAt(context.schema, path);
        for (const key of issue.keys) {
          const hint = didYouMean(key, allowed);
          const rest = key === "name" && path.length === 1 && path[0] === "defaults"
            ? ": a consumer's name cannot have a default (each consumer needs its own)"
            : hint !== "" || allowed.length === 0
            ? hint
            : `; expected one of: ${allowed.join(", ")}`;
          findings.push({
            path: [...path, key],
            message: `unknown key ${JSON.stringify(key)}${rest}`,
            atKey: true,
            missing: false,
          });
        }
        break;
      }
      case "invalid_union": {
        // A value of the right kind for one option (say, a mapping where
        // `false` or a mapping is allowed): report that option's problems.
        const matched = issue.errors.find((branch) =>
          branch.length > 0 &&
          branch.every((inner) =>
            inner.path.length > 0 ||
            (inner.code !== "invalid_type" && inner.code !== "invalid_value")
          )
        );
        if (matched !== undefined) findings.push(...explainIssues(matched, context, path));
        else push(`${issue.message}, found ${shown}`);
        break;
      }
      case "invalid_format":
        push(`${issue.message}, found ${shown}`);
        break;
      default:
        push(issue.message);
    }
  }
  return findings;
}

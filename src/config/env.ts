/**
 * `${VAR}` interpolation in string values. It runs on parsed scalar values,
 * never on the source text, so a variable can never create YAML structure or
 * keys: whatever it holds (newlines, `: `, `- `) stays inside one string.
 *
 * Forms: `${VAR}` (error when unset), `${VAR:-default}` (default when unset
 * or empty), `${VAR:?message}` (error with that message when unset or
 * empty), and `$${` for a literal `${`.
 *
 * @module
 */
import { type Document, isMap, isPair, isScalar, isSeq, type Scalar } from "./yaml.ts";
import type { FieldPath } from "./locate.ts";

/** Looks up an environment variable; `undefined` when it is not set. */
export type EnvLookup = (name: string) => string | undefined;

/** A `${…}` expression that could not be replaced. */
export interface InterpolationError {
  /** Offset of the expression in the string. */
  offset: number;
  /** Why; names the variable, never prints a variable's value. */
  message: string;
}

/** The result of {@linkcode interpolate}. */
export type InterpolationResult =
  | { ok: true; value: string }
  | { ok: false; errors: InterpolationError[] };

const EXPRESSION = /\$\$\{|\$\{([^}]*)\}|\$\{/g;
const VARIABLE = /^([A-Za-z_][A-Za-z0-9_]*)(?:(:-|:\?)([\s\S]*))?$/;

/**
 * Replaces every `${…}` expression in `text`.
 *
 * @example
 * ```ts
 * const env = (name: string) => ({ HOST: "kafka" } as Record<string, string>)[name];
 * interpolate("${HOST}:${PORT:-9092}", env); // { ok: true, value: "kafka:9092" }
 * interpolate("${TOKEN}", env).ok; // false: "environment variable TOKEN is not set"
 * ```
 */
export function interpolate(text: string, lookup: EnvLookup): InterpolationResult {
  if (!text.includes("${")) return { ok: true, value: text };
  const errors: InterpolationError[] = [];
  const value = text.replace(
    EXPRESSION,
    (match: string, body: string | undefined, offset: number) => {
      if (match === "$${") return "${";
      if (body === undefined) {
        errors.push({ offset, message: 'unterminated "${": expected ${NAME}' });
        return match;
      }
      const parsed = VARIABLE.exec(body);
      if (parsed === null) {
        errors.push({
          offset,
          message: `invalid expression ${JSON.stringify(match)}: expected \${NAME}, ` +
            "${NAME:-default} or ${NAME:?message} with NAME of letters, digits and _",
        });
        return match;
      }
      const name = parsed[1] as string;
      const operator = parsed[2];
      const argument = parsed[3] ?? "";
      const current = lookup(name);
      if (operator === ":-") return current === undefined || current === "" ? argument : current;
      if (operator === ":?") {
        if (current !== undefined && current !== "") return current;
        const reason = argument === "" ? "it is required" : argument;
        errors.push({
          offset,
          message:
            `environment variable ${name} is ${current === undefined ? "not set" : "empty"}: ` +
            reason,
        });
        return match;
      }
      if (current === undefined) {
        errors.push({
          offset,
          message: `environment variable ${name} is not set ` +
            `(set it, or give a default with \${${name}:-default})`,
        });
        return match;
      }
      return current;
    },
  );
  return errors.length === 0 ? { ok: true, value } : { ok: false, errors };
}

/** An interpolation error located in a document. */
export interface DocumentInterpolationError {
  /** Path of the string value that holds the expression. */
  path: FieldPath;
  /** Source offset of the expression (of the scalar, when it cannot be exact). */
  sourceOffset: number;
  message: string;
}

function expressionOffset(scalar: Scalar, original: string, offset: number): number {
  const start = scalar.range?.[0] ?? 0;
  const source = (scalar as Scalar.Parsed).source;
  if (source !== original) return start;
  if (scalar.type === "PLAIN") return start + offset;
  if (scalar.type === "QUOTE_DOUBLE" || scalar.type === "QUOTE_SINGLE") return start + 1 + offset;
  return start;
}

/**
 * Interpolates every string scalar value of `doc` in place (keys are left
 * alone; aliased values are replaced once, where they are defined). Returns
 * the paths of the values that were changed, and the errors.
 */
export function interpolateDocument(
  doc: Document,
  lookup: EnvLookup,
): { interpolated: FieldPath[]; errors: DocumentInterpolationError[] } {
  const interpolated: FieldPath[] = [];
  const errors: DocumentInterpolationError[] = [];
  // An explicit stack, so that deep nesting cannot overflow the call stack.
  const stack: { node: unknown; path: FieldPath }[] = [{ node: doc.contents, path: [] }];
  while (stack.length > 0) {
    const { node, path } = stack.pop() as { node: unknown; path: FieldPath };
    if (isScalar(node)) {
      if (typeof node.value !== "string") continue;
      const original = node.value;
      const result = interpolate(original, lookup);
      if (result.ok) {
        if (result.value !== original) {
          node.value = result.value;
          interpolated.push(path);
        }
      } else {
        for (const error of result.errors) {
          errors.push({
            path,
            sourceOffset: expressionOffset(node, original, error.offset),
            message: error.message,
          });
        }
      }
    } else if (isMap(node)) {
      for (const pair of node.items) {
        if (!isPair(pair)) continue;
        const key = isScalar(pair.key) ? pair.key.value : pair.key;
        stack.push({ node: pair.value, path: [...path, String(key)] });
      }
    } else if (isSeq(node)) {
      node.items.forEach((item, index) => stack.push({ node: item, path: [...path, index] }));
    }
  }
  return { interpolated, errors };
}

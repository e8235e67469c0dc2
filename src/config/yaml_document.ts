/**
 * From config text to a YAML document and then to plain values, with the
 * guards that keep hostile input cheap and every YAML problem positioned.
 *
 * @module
 */
import { type Document, LineCounter, parseDocument, visit, type YAMLError } from "./yaml.ts";
import type { ConfigIssue } from "./error.ts";
import {
  exceedsExpandedSize,
  flowDepthOverflow,
  MAX_ALIAS_COUNT,
  MAX_EXPANDED_VALUES,
  MAX_FLOW_DEPTH,
  sizeProblem,
  utf8Length,
} from "./limits.ts";
import { formatPath, Locator } from "./locate.ts";
import { explainSyntaxError } from "./yaml_syntax.ts";

/** A parsed YAML document and the issues found while parsing it. */
export interface ParsedYaml {
  /** The document, unless the text could not be trusted to hold one. */
  document: { doc: Document; locator: Locator } | undefined;
  /** Positioned problems (a document may come with duplicate-key issues). */
  issues: ConfigIssue[];
}

/** YAML errors after which the document still has a trustworthy structure. */
const SOFT_YAML_ERRORS: ReadonlySet<string> = new Set(["DUPLICATE_KEY"]);

function yamlMessage(error: YAMLError): string {
  // With prettyErrors off the message has no source excerpt (which could
  // show a secret); keep its first line only, to be sure.
  const first = error.message.split("\n")[0] ?? error.message;
  return first.replace(/ at line \d+, column \d+:?$/, "");
}

function yamlIssue(error: YAMLError, text: string, file: string, locator: Locator): ConfigIssue {
  const position = locator.offsetPosition(error.pos[0]);
  const at = { file, ...position, path: "" };
  if (error.code === "DUPLICATE_KEY") {
    const duplicate = locator.keyAt(error.pos[0]);
    if (duplicate === undefined) {
      return { ...at, message: "duplicate key: each key may appear once" };
    }
    const key = duplicate.path[duplicate.path.length - 1];
    const earlier = duplicate.earlierOffset === undefined
      ? ""
      : ` (first set at line ${locator.offsetPosition(duplicate.earlierOffset).line})`;
    return {
      ...at,
      path: formatPath(duplicate.path),
      message: `duplicate key ${
        JSON.stringify(key)
      }${earlier}: each key may appear once in a mapping`,
    };
  }
  if (error.code === "MULTIPLE_DOCS") {
    return { ...at, message: "expected one YAML document, found a second one after a --- line" };
  }
  const kind = error.name === "YAMLWarning" ? "YAML problem" : "YAML syntax error";
  const plain = explainSyntaxError(
    { code: error.code, message: yamlMessage(error), ...position },
    text,
  );
  if (plain !== undefined) {
    return {
      file,
      line: plain.line,
      column: plain.column,
      path: "",
      message: `${kind}: ${plain.message}`,
    };
  }
  const lineText = text.split("\n", position.line)[position.line - 1] ?? "";
  // `[${VAR}]` unquoted is YAML for a mapping inside a list: say how to fix it.
  const hint = /[[{].*\$\{/.test(lineText)
    ? ' (inside [ ] or { }, quote "${VAR}" expressions)'
    : "";
  return { ...at, message: `${kind}: ${yamlMessage(error)}${hint}` };
}

/**
 * Parses config text as one YAML document, after checking its size and
 * nesting. Returns no document when the text is too big, nests too deeply,
 * is empty, or has a syntax error (other than a duplicate key).
 *
 * @example
 * ```ts
 * const { document, issues } = parseYaml("consumers: []\n", { file: "c.yaml", maxBytes: 1024 });
 * ```
 */
export function parseYaml(
  text: string,
  { file, maxBytes }: { file: string; maxBytes: number },
): ParsedYaml {
  const fail = (message: string, line = 1, column = 1): ParsedYaml => ({
    document: undefined,
    issues: [{ file, line, column, path: "", message }],
  });
  const size = text.length > maxBytes ? text.length : utf8Length(text);
  const tooBig = sizeProblem(size, maxBytes);
  if (tooBig !== undefined) return fail(tooBig);
  if (text.startsWith("\uFEFF")) text = text.slice(1);
  const deepAt = flowDepthOverflow(text, MAX_FLOW_DEPTH);
  if (deepAt !== undefined) {
    const before = text.slice(0, deepAt);
    return fail(
      `expected [ and { nested at most ${MAX_FLOW_DEPTH} deep, found deeper nesting`,
      before.split("\n").length,
      deepAt - before.lastIndexOf("\n"),
    );
  }

  const lineCounter = new LineCounter();
  const doc = parseDocument(text, {
    lineCounter,
    prettyErrors: false,
    merge: true,
    uniqueKeys: true,
  });
  const locator = new Locator(doc, lineCounter);
  // After the first syntax error the parser's later complaints are mostly
  // echoes of it: report the first, and every soft problem.
  const firstHard = doc.errors.find((e) => !SOFT_YAML_ERRORS.has(e.code));
  const problems = [
    ...doc.errors.filter((e) => e === firstHard || SOFT_YAML_ERRORS.has(e.code)),
    ...doc.warnings,
  ];
  const issues = problems.map((error) => yamlIssue(error, text, file, locator));
  const broken = firstHard !== undefined;
  if (broken) return { document: undefined, issues };
  if (doc.contents === null) {
    return fail(
      "the file is empty: expected a mapping with at least a consumers: list " +
        "(and optionally kafka, http, shutdown, reload, defaults)",
    );
  }
  return { document: { doc, locator }, issues };
}

/**
 * The document's plain value, aliases expanded within
 * {@linkcode MAX_ALIAS_COUNT} expansions and {@linkcode MAX_EXPANDED_VALUES}
 * values; else an issue positioned at the first alias.
 */
export function plainValue(
  doc: Document,
  locator: Locator,
  file: string,
): { ok: true; value: unknown } | { ok: false; issue: ConfigIssue } {
  const atFirstAlias = (message: string) => {
    let offset = 0;
    visit(doc, {
      Alias(_key, node) {
        offset = node.range?.[0] ?? 0;
        return visit.BREAK;
      },
    });
    return {
      ok: false as const,
      issue: { file, ...locator.offsetPosition(offset), path: "", message },
    };
  };
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (error) {
    if (error instanceof RangeError) {
      return {
        ok: false,
        issue: {
          file,
          line: 1,
          column: 1,
          path: "",
          message: "the file nests too deeply to be a config file",
        },
      };
    }
    return atFirstAlias(
      `expected at most ${MAX_ALIAS_COUNT} alias expansions (*name), found more ` +
        '(an exponential "billion laughs" alias bomb?)',
    );
  }
  if (exceedsExpandedSize(value, MAX_EXPANDED_VALUES)) {
    return atFirstAlias(
      `expected at most ${MAX_EXPANDED_VALUES} values with aliases (*name) expanded, found more ` +
        "(aliases repeat a large value)",
    );
  }
  return { ok: true, value };
}

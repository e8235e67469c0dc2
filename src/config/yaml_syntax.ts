/**
 * YAML syntax errors in plain words. The YAML parser names what its grammar
 * saw ("Nested mappings are not allowed in compact mappings"), often at the
 * line before the mistake; people need the line at fault and what is wrong
 * with it ("line 6: `topic` is indented deeper than `group` on line 5").
 * Pure: it reads the text around the parser's position.
 *
 * @module
 */

/** A parser error to explain: its code, message and 1-based position. */
export interface SyntaxProblem {
  code: string;
  message: string;
  line: number;
  column: number;
}

/** An explained error: where the mistake is and what it is. */
export interface SyntaxExplanation {
  line: number;
  column: number;
  message: string;
}

interface Entry {
  /** 0-based line index. */
  index: number;
  /** 0-based column where the key (or the `-` of a list item) starts. */
  column: number;
  key: string | null;
  /** Text after `key:`, trimmed; null when the line is not `key: value`. */
  value: string | null;
  dash: boolean;
}

const KEY_LINE = /^(\s*)(-\s+)?([^\s#:'"[\]{},][^#:]*?|"[^"]*"|'[^']*')\s*:(?:\s+(.*))?$/;

function entryAt(lines: readonly string[], index: number): Entry | null {
  const raw = lines[index];
  if (raw === undefined) return null;
  const text = raw.replace(/\s+#.*$/, "").replace(/\s+$/, "");
  if (text.trim() === "" || text.trim().startsWith("#")) return null;
  const match = KEY_LINE.exec(text);
  const lead = text.length - text.trimStart().length;
  if (match === null) {
    const dash = /^\s*-(\s|$)/.test(text);
    return { index, column: lead, key: null, value: null, dash };
  }
  const dash = match[2] !== undefined;
  return {
    index,
    column: lead + (match[2]?.length ?? 0),
    key: match[3]!.replace(/^["']|["']$/g, ""),
    value: match[4]?.trim() ?? "",
    dash,
  };
}

function previousEntry(lines: readonly string[], index: number): Entry | null {
  for (let i = index - 1; i >= 0; i--) {
    const entry = entryAt(lines, i);
    if (entry !== null) return entry;
  }
  return null;
}

function nextEntry(lines: readonly string[], index: number): Entry | null {
  for (let i = index + 1; i < lines.length; i++) {
    const entry = entryAt(lines, i);
    if (entry !== null) return entry;
  }
  return null;
}

const name = (entry: Entry) => entry.key === null ? "this line" : `\`${entry.key}\``;
const at = (entry: Entry, message: string): SyntaxExplanation => ({
  line: entry.index + 1,
  column: entry.column + 1,
  message: `line ${entry.index + 1}: ${message}`,
});

/** A key indented deeper than a key above it that already has a value. */
function deeperThanScalar(lines: readonly string[], index: number): SyntaxExplanation | undefined {
  const here = entryAt(lines, index);
  if (here === null || here.key === null || here.value === "") return undefined;
  const next = nextEntry(lines, index);
  if (next === null || next.key === null || next.column <= here.column) return undefined;
  return at(
    next,
    `${name(next)} is indented deeper than ${name(here)} on line ${here.index + 1}: ` +
      `keys of one mapping start at the same column (${here.column + 1}), and ${
        name(here)
      } already has a value`,
  );
}

/** A key out of line with the key before it. */
function outOfLine(lines: readonly string[], index: number): SyntaxExplanation | undefined {
  const here = entryAt(lines, index);
  const before = previousEntry(lines, index);
  if (here === null || here.key === null || here.dash || before === null || before.key === null) {
    return undefined;
  }
  if (here.column === before.column || (here.column > before.column && before.value === "")) {
    return undefined;
  }
  return at(
    here,
    `${name(here)} is indented ${here.column > before.column ? "deeper" : "less"} than ${
      name(before)
    } on line ${before.index + 1} (column ${here.column + 1}, not ${before.column + 1}): ` +
      "keys of one mapping start at the same column",
  );
}

/** Where the last bracket of `kind` still open before `offset` was opened. */
function unclosed(text: string, offset: number, open: "[" | "{"): number | undefined {
  const close = open === "[" ? "]" : "}";
  const stack: number[] = [];
  let quote: string | null = null;
  for (let i = 0; i < Math.min(offset, text.length); i++) {
    const c = text[i];
    if (quote !== null) {
      if (c === quote) quote = null;
      continue;
    }
    if (c === '"' || c === "'") quote = c;
    else if (c === "#" && (i === 0 || /\s/.test(text[i - 1]!))) {
      const nl = text.indexOf("\n", i);
      i = nl < 0 ? text.length : nl;
    } else if (c === open) stack.push(i);
    else if (c === close) stack.pop();
  }
  return stack.at(-1);
}

function position(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, offset);
  return { line: before.split("\n").length, column: offset - before.lastIndexOf("\n") };
}

/** Where the last quote of `quote` left open before line `line` started. */
function openQuote(text: string, quote: string, line: number): number | undefined {
  const lines = text.split("\n");
  let offset = 0;
  let openAt: number | undefined;
  for (let i = 0; i < Math.min(line, lines.length); i++) {
    const content = lines[i]!;
    for (let j = 0; j < content.length; j++) {
      const c = content[j];
      if (openAt === undefined && c === "#" && (j === 0 || /\s/.test(content[j - 1]!))) break;
      if (c === quote) openAt = openAt === undefined ? offset + j : undefined;
    }
    offset += content.length + 1;
  }
  return openAt;
}

/**
 * Explains a YAML syntax error in plain words, pointing at the line at
 * fault; undefined when the error is not one it knows (the parser's own
 * message is used then).
 *
 * @example
 * ```ts
 * const text = "consumers:\n  - name: a\n    group: g\n     topic: t\n";
 * explainSyntaxError(
 *   { code: "BLOCK_AS_IMPLICIT_KEY", message: "Nested mappings are not allowed in compact mappings", line: 3, column: 12 },
 *   text,
 * )?.message; // "line 4: `topic` is indented deeper than `group` on line 3, …"
 * ```
 */
export function explainSyntaxError(
  problem: SyntaxProblem,
  text: string,
): SyntaxExplanation | undefined {
  const lines = text.split("\n");
  const index = problem.line - 1;
  const lineText = lines[index] ?? "";
  switch (problem.code) {
    case "TAB_AS_INDENT":
      return {
        line: problem.line,
        column: 1,
        message: `line ${problem.line}: indented with a tab; YAML indentation must be spaces`,
      };
    case "BLOCK_AS_IMPLICIT_KEY":
    case "MULTILINE_IMPLICIT_KEY": {
      const indented = deeperThanScalar(lines, index) ?? outOfLine(lines, index);
      if (indented !== undefined) return indented;
      const here = entryAt(lines, index);
      if (here !== null && here.key !== null && /:\s/.test(here.value ?? "")) {
        const column = lineText.indexOf(": ", here.column + here.key.length + 1) + 1;
        return {
          line: problem.line,
          column: column > 0 ? column : problem.column,
          message: `line ${problem.line}: the value of ${
            name(here)
          } contains ": "; put the value in quotes`,
        };
      }
      if (here !== null && here.key === null) {
        return at(
          here,
          `expected "key: value", found ${
            JSON.stringify(lineText.trim())
          } (a missing ":" after the key, or a space missing after ":"?)`,
        );
      }
      return undefined;
    }
    case "BAD_INDENT":
    case "MISSING_CHAR": {
      if (/Flow (sequence|map)/.test(problem.message)) {
        const open = problem.message.includes("sequence") ? "[" : "{";
        const offset = lines.slice(0, index).join("\n").length + problem.column;
        const from = unclosed(text, offset, open);
        if (from === undefined) return undefined;
        const p = position(text, from);
        return {
          ...p,
          message: `line ${p.line}: the ${open} opened here is never closed with ${
            open === "[" ? "]" : "}"
          }`,
        };
      }
      const quote = /closing (["'])/.exec(problem.message)?.[1] ??
        (/closing "quote/.test(problem.message) ? '"' : undefined);
      if (quote !== undefined) {
        const from = openQuote(text, quote, problem.line);
        if (from === undefined) return undefined;
        const p = position(text, from);
        return { ...p, message: `line ${p.line}: the ${quote} opened here is never closed` };
      }
      if (/^All sequence items must start/.test(problem.message)) {
        const here = entryAt(lines, index);
        const before = previousEntry(lines, index);
        let first: Entry | null = null;
        for (let i = index - 1; i >= 0; i--) {
          const e = entryAt(lines, i);
          if (e?.dash && e.column - (e.key === null ? 0 : 2) <= (here?.column ?? 0) + 2) {
            first = e;
            break;
          }
        }
        const item = first ?? before;
        if (here === null || item === null) return undefined;
        const dashAt = (e: Entry) => (lines[e.index] ?? "").indexOf("-") + 1;
        return {
          line: here.index + 1,
          column: dashAt(here),
          message: `line ${here.index + 1}: this list item starts at column ${
            dashAt(here)
          }, but the item on line ${item.index + 1} at column ${
            dashAt(item)
          }: items of one list start at the same column`,
        };
      }
      if (!/^(All mapping items must start|Sequence item without)/.test(problem.message)) {
        return undefined;
      }
      return outOfLine(lines, index) ?? deeperThanScalar(lines, index);
    }
    case "UNEXPECTED_TOKEN":
      if (/at node end/.test(problem.message)) {
        return {
          line: problem.line,
          column: problem.column,
          message:
            `line ${problem.line}: unexpected text after the value at column ${problem.column}` +
            ` (quote the whole value, or put a space before a # comment)`,
        };
      }
      return undefined;
    default:
      return undefined;
  }
}

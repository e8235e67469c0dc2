/**
 * The field reference of consumers.yaml, written into `docs/configuration.md`
 * from the zod schema (through its JSON Schema), so that the page says what
 * the loader accepts: every field, its type, its default and its description.
 *
 * The page is hand-written around one generated block between
 * {@linkcode REFERENCE_START} and {@linkcode REFERENCE_END}.
 *
 * @module
 */
import { z } from "zod";
import { consumersJsonSchema } from "./json_schema.ts";
import { ConsumerSchema } from "./schema.ts";

/** Where the reference page lives, relative to the repository root. */
export const CONFIG_REFERENCE_PATH = "docs/configuration.md";

/** The line that opens the generated block of the reference page. */
export const REFERENCE_START =
  "<!-- fields:start (written by `deno task generate` from src/config/schema.ts; edit the schema, not this block) -->";
/** The line that closes the generated block of the reference page. */
export const REFERENCE_END = "<!-- fields:end -->";

/** The part of a JSON Schema node that the reference reads. */
interface Node {
  type?: string;
  description?: string;
  default?: unknown;
  enum?: unknown[];
  const?: unknown;
  anyOf?: Node[];
  properties?: Record<string, Node>;
  required?: string[];
  items?: Node;
  minimum?: number;
  maximum?: number;
  minItems?: number;
}

/** One row of a field table. */
interface Row {
  field: string;
  type: string;
  default: string;
  meaning: string;
}

// zod writes Number.MAX_SAFE_INTEGER as the maximum of an unbounded integer.
const UNBOUNDED = Number.MAX_SAFE_INTEGER;

function code(value: unknown): string {
  const text = typeof value === "string" && value !== "" ? value : JSON.stringify(value);
  return `\`${text}\``;
}

function range(node: Node): string {
  const min = node.minimum;
  const max = node.maximum === UNBOUNDED ? undefined : node.maximum;
  if (min !== undefined && max !== undefined) return ` ${min}–${max}`;
  if (min !== undefined) return ` ≥ ${min}`;
  return max === undefined ? "" : ` ≤ ${max}`;
}

/**
 * A short type for people: `` `auto` | `manual` ``, `integer ≥ 1`,
 * `list of strings`, `mapping`.
 *
 * @example
 * ```ts
 * typeOf({ type: "integer", minimum: 1 }); // "integer ≥ 1"
 * ```
 */
export function typeOf(node: Node): string {
  if (node.anyOf !== undefined) return node.anyOf.map(typeOf).join(" or ");
  if (node.const !== undefined) return code(node.const);
  if (node.enum !== undefined) return node.enum.map(code).join(" | ");
  switch (node.type) {
    case "integer":
      return `integer${range(node)}`;
    case "array": {
      const item = node.items ?? {};
      if (item.type === "integer") return `list of integers${range(item)}`;
      return item.type === "string" && item.enum === undefined
        ? "list of strings"
        : `list of (${typeOf(item)})`;
    }
    case "object":
      return "mapping";
    case "null":
      return "`null`";
    case undefined:
      return "any";
    default:
      return node.type;
  }
}

function defaultOf(node: Node, required: string | undefined): string {
  if (required !== undefined) return required;
  if (node.default === undefined) return "—";
  const value = node.default;
  const empty = typeof value === "object" && value !== null && !Array.isArray(value) &&
    Object.keys(value).length === 0;
  return empty ? "its fields'" : code(value);
}

/** The object options of a node (itself, or the mappings of its union). */
function objectsOf(node: Node): Node[] {
  if (node.type === "object" && node.properties !== undefined) return [node];
  return (node.anyOf ?? []).filter((option) => option.type === "object" && option.properties);
}

function rowsOf(
  properties: Record<string, Node>,
  prefix: string,
  requiredText: (name: string) => string | undefined,
): Row[] {
  return Object.entries(properties).flatMap(([name, node]) => {
    const field = `${prefix}${name}`;
    const row: Row = {
      field: code(field),
      type: typeOf(node),
      default: defaultOf(node, requiredText(name)),
      meaning: node.description ?? "",
    };
    const nested = objectsOf(node).flatMap((object) =>
      rowsOf(
        object.properties ?? {},
        `${field}.`,
        (sub) => object.required?.includes(sub) ? "required" : undefined,
      )
    );
    return [row, ...nested];
  });
}

function cell(text: string): string {
  return text.replaceAll("|", "\\|").replaceAll("\n", " ");
}

/**
 * A Markdown table laid out as `deno fmt` lays it out (cells padded to the
 * widest in their column), so that formatting the page leaves it unchanged.
 *
 * @example
 * ```ts
 * markdownTable(["a", "b"], [["1", "22"]]);
 * // "| a   | b   |\n| --- | --- |\n| 1   | 22  |"
 * ```
 */
export function markdownTable(header: string[], rows: string[][]): string {
  const all = [header, ...rows].map((row) => row.map(cell));
  const widths = header.map((_, i) => Math.max(3, ...all.map((row) => [...(row[i] ?? "")].length)));
  const line = (row: string[]) =>
    `| ${row.map((text, i) => text + " ".repeat(widths[i]! - [...text].length)).join(" | ")} |`;
  const rule = `| ${widths.map((width) => "-".repeat(width)).join(" | ")} |`;
  return [line(all[0]!), rule, ...all.slice(1).map(line)].join("\n");
}

function table(rows: Row[]): string {
  return markdownTable(
    ["field", "type", "default", "meaning"],
    rows.map((row) => [row.field, row.type, row.default, row.meaning]),
  );
}

/**
 * The generated block: one table per top-level section of consumers.yaml,
 * then one for the fields of a consumer (in `consumers:` and `defaults:`).
 *
 * @example
 * ```ts
 * configReference().startsWith(REFERENCE_START); // true
 * ```
 */
export function configReference(): string {
  const schema = consumersJsonSchema() as Node;
  const sections = schema.properties ?? {};
  const consumerRequired = z.toJSONSchema(ConsumerSchema, { io: "input" }).required ?? [];
  const parts: string[] = [REFERENCE_START];
  for (const [name, node] of Object.entries(sections)) {
    if (name === "consumers" || name === "defaults") continue;
    parts.push(
      `### \`${name}:\``,
      wrap(node.description ?? ""),
      table(rowsOf(node.properties ?? {}, `${name}.`, () => undefined)),
    );
  }
  const entry = sections.consumers?.items ?? {};
  parts.push(
    "### `consumers:` and `defaults:`",
    wrap(
      `\`consumers:\` ${lowerFirst(sections.consumers?.description ?? "")} ` +
        `Each entry: ${lowerFirst(entry.description ?? "")} ` +
        `\`defaults:\` ${lowerFirst(sections.defaults?.description ?? "")}`,
    ),
    table(rowsOf(
      entry.properties ?? {},
      "",
      (field) =>
        field === "name"
          ? "required"
          : consumerRequired.includes(field)
          ? "required (here or in `defaults:`)"
          : undefined,
    )),
    REFERENCE_END,
  );
  return parts.join("\n\n");
}

/** Greedy word wrap at `width` columns, as `deno fmt` wraps prose. */
function wrap(text: string, width = 100): string {
  const lines: string[] = [];
  let line = "";
  for (const word of text.split(/\s+/).filter((w) => w !== "")) {
    if (line !== "" && [...line].length + 1 + [...word].length > width) {
      lines.push(line);
      line = word;
    } else {
      line = line === "" ? word : `${line} ${word}`;
    }
  }
  if (line !== "") lines.push(line);
  return lines.join("\n");
}

function lowerFirst(text: string): string {
  return text.charAt(0).toLowerCase() + text.slice(1);
}

/**
 * The page with its generated block replaced by {@linkcode configReference}.
 *
 * @throws {RangeError} when the page lacks the start or end line.
 * @example
 * ```ts
 * withConfigReference(await Deno.readTextFile("docs/configuration.md"));
 * ```
 */
export function withConfigReference(page: string): string {
  const start = page.indexOf(REFERENCE_START);
  const end = page.indexOf(REFERENCE_END);
  if (start < 0 || end < start) {
    throw new RangeError(
      `Cannot write the field reference into ${CONFIG_REFERENCE_PATH} as it lacks the lines ` +
        `${REFERENCE_START} and ${REFERENCE_END}`,
    );
  }
  return page.slice(0, start) + configReference() + page.slice(end + REFERENCE_END.length);
}

import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { configReferenceFile } from "../../../src/config/generate_schema.ts";
import { consumersJsonSchema } from "../../../src/config/json_schema.ts";
import {
  configReference,
  markdownTable,
  REFERENCE_END,
  REFERENCE_START,
  typeOf,
  withConfigReference,
} from "../../../src/config/reference.ts";

Deno.test("docs/configuration.md is up to date with the zod schema", async () => {
  const page = await readFile(configReferenceFile, "utf8");
  assert.equal(
    page,
    withConfigReference(page),
    "docs/configuration.md's field tables are stale: run `deno task generate`",
  );
});

/** Every field path of the JSON Schema, as the reference names it. */
function fieldPaths(node: Record<string, unknown>, prefix: string): string[] {
  const options = [node, ...((node.anyOf as Record<string, unknown>[] | undefined) ?? [])];
  return options.flatMap((option) =>
    Object.entries((option.properties as Record<string, Record<string, unknown>>) ?? {})
      .flatMap(([name, child]) => [`${prefix}${name}`, ...fieldPaths(child, `${prefix}${name}.`)])
  );
}

Deno.test("configReference() has a row with a meaning for every field of the schema", () => {
  const schema = consumersJsonSchema() as {
    properties: Record<string, Record<string, unknown>> & {
      consumers: { items: Record<string, unknown> };
    };
  };
  const { consumers, defaults: _defaults, ...sections } = schema.properties;
  const expected = [
    ...Object.entries(sections).flatMap(([name, node]) => fieldPaths(node, `${name}.`)),
    ...fieldPaths(consumers.items, ""),
  ];
  const rows = new Map(
    configReference().split("\n").flatMap((line) => {
      const cells = line.split(/(?<!\\)\|/).map((cell) => cell.trim());
      const field = /^`([^`]+)`$/.exec(cells[1] ?? "")?.[1];
      return field === undefined ? [] : [[field, cells[4] ?? ""] as const];
    }),
  );
  assert.ok(expected.length > 40, `only ${expected.length} fields found`);
  for (const path of expected) {
    assert.ok(rows.has(path), `no row for ${path}`);
    assert.notEqual(rows.get(path), "", `${path} has no description in src/config/schema.ts`);
  }
  assert.deepEqual([...rows.keys()].sort(), [...expected].sort());
});

Deno.test("configReference() shows required fields, defaults and types as the loader reads them", () => {
  const text = configReference();
  assert.ok(text.startsWith(REFERENCE_START) && text.endsWith(REFERENCE_END));
  const row = (field: string) => text.split("\n").find((line) => line.startsWith(`| \`${field}\``));
  assert.match(row("name") ?? "", /\| required +\|/);
  assert.match(row("group") ?? "", /\| required \(here or in `defaults:`\) +\|/);
  assert.match(row("retry.attempts") ?? "", /\| integer ≥ 0 +\| `3` +\|/);
  assert.match(row("commit.mode") ?? "", /\| `auto` \\\| `manual` +\| `auto` +\|/);
  assert.match(row("http.token") ?? "", /\| string +\| `""` +\|/);
  assert.match(row("kafka.sasl.password") ?? "", /\| required +\|/);
});

Deno.test("typeOf() names unions, enums, ranges and lists", () => {
  assert.equal(typeOf({ type: "integer", minimum: 1, maximum: 256 }), "integer 1–256");
  assert.equal(
    typeOf({ type: "integer", minimum: 0, maximum: Number.MAX_SAFE_INTEGER }),
    "integer ≥ 0",
  );
  assert.equal(typeOf({ anyOf: [{ const: false }, { type: "string" }] }), "`false` or string");
  assert.equal(typeOf({ type: "array", items: { type: "string" } }), "list of strings");
  assert.equal(
    typeOf({ type: "array", items: { type: "integer", minimum: 0 } }),
    "list of integers ≥ 0",
  );
});

Deno.test("markdownTable() pads cells as deno fmt does and escapes pipes", () => {
  assert.equal(
    markdownTable(["a", "b"], [["1", "x|y"]]),
    "| a   | b    |\n| --- | ---- |\n| 1   | x\\|y |",
  );
});

Deno.test("withConfigReference() throws RangeError when the page lacks its markers", () => {
  assert.throws(() => withConfigReference("# Configuration\n"), RangeError);
  assert.throws(
    () => withConfigReference(`${REFERENCE_END}\n${REFERENCE_START}\n`),
    /lacks the lines/,
  );
});

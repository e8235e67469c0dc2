import assert from "node:assert/strict";
import { analyzeConfig } from "../../../src/config/parse.ts";

const lines = (...l: string[]) => `${l.join("\n")}\n`;
const firstIssue = (text: string) => {
  const issues = analyzeConfig(text, { file: "c.yaml" }).issues;
  assert.equal(issues.length, 1, `one issue, found ${JSON.stringify(issues)}`);
  return issues[0]!;
};

const CASES: Array<{ name: string; text: string; line: number; column: number; says: string }> = [
  {
    name: "a key indented deeper than the key above it",
    text: lines(
      "kafka:",
      "  brokers: k:9092",
      "consumers:",
      "  - name: a",
      "    group: g",
      "     topic: t",
      "    handler: ./h.ts",
    ),
    line: 6,
    column: 6,
    says: "line 6: `topic` is indented deeper than `group` on line 5",
  },
  {
    name: "a key indented less than its siblings",
    text: lines("consumers:", "  - name: a", "    group: g", "   topic: t", "    handler: h"),
    line: 4,
    column: 4,
    says: "line 4: `topic` is indented less than `group` on line 3 (column 4, not 5)",
  },
  {
    name: "a key that left its list item",
    text: lines("consumers:", "  - name: a", "  group: g"),
    line: 3,
    column: 3,
    says: "`group` is indented less than `name` on line 2",
  },
  {
    name: "a tab",
    text: lines("consumers:", "  - name: a", "\tgroup: g"),
    line: 3,
    column: 1,
    says: "indented with a tab",
  },
  {
    name: "a missing colon",
    text: lines("consumers:", "  - name: a", "    group g", "    topic: t"),
    line: 3,
    column: 5,
    says: 'expected "key: value", found "group g"',
  },
  {
    name: "an unquoted value with a colon",
    text: lines("consumers:", "  - name: a", "    group: g: x"),
    line: 3,
    column: 13,
    says: 'the value of `group` contains ": "; put the value in quotes',
  },
  {
    name: "an unclosed [",
    text: lines("kafka:", "  brokers: [a:1, b:2", "consumers: []"),
    line: 2,
    column: 12,
    says: "the [ opened here is never closed with ]",
  },
  {
    name: "an unclosed {",
    text: lines("kafka: {clientId: x", "consumers: []"),
    line: 1,
    column: 8,
    says: "the { opened here is never closed with }",
  },
  {
    name: "an unclosed quote",
    text: lines("kafka:", '  clientId: "abc', "consumers: []"),
    line: 2,
    column: 13,
    says: 'the " opened here is never closed',
  },
  {
    name: "text after a quoted value",
    text: lines("kafka:", '  clientId: "abc" x', "consumers: []"),
    line: 2,
    column: 19,
    says: "unexpected text after the value",
  },
  {
    name: "list items out of line",
    text: lines("consumers:", "- name: a", "  group: g", " - name: b"),
    line: 4,
    column: 2,
    says: "this list item starts at column 2, but the item on line 2 at column 1",
  },
];

for (const c of CASES) {
  Deno.test(`analyzeConfig() explains a YAML syntax error in plain words: ${c.name}`, () => {
    const issue = firstIssue(c.text);
    assert.equal(`${issue.line}:${issue.column}`, `${c.line}:${c.column}`);
    assert.ok(issue.message.startsWith("YAML syntax error: "), issue.message);
    assert.ok(issue.message.includes(c.says), `"${issue.message}" lacks "${c.says}"`);
  });
}

import assert from "node:assert/strict";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { type Page, readPages, ROOT, splitFences } from "./_markdown.ts";

/** The most lines a file of `src/` has unless the architecture page says why. */
const MAX_LINES = 450;

/** The files the table under "## Files over 450 lines" names, with whether each has a reason. */
function explainedLongFiles(page: Page): Map<string, boolean> {
  const prose = splitFences(page.text, page.path).prose;
  const section = prose.split(/^## /m).find((s) => s.startsWith("Files over 450 lines")) ?? "";
  const rows = [...section.matchAll(/^\| `(src\/[^`]+)` +\|(.*)\|$/gm)];
  return new Map(rows.map(([, path, why]) => [path!, why!.trim().length > 0]));
}

/** Every `.ts` file of `src/` over {@linkcode MAX_LINES} lines, as a repository path. */
async function longFiles(): Promise<string[]> {
  const src = join(ROOT, "src");
  const files = (await readdir(src, { recursive: true })).filter((p) => p.endsWith(".ts"));
  const lines = await Promise.all(
    files.map(async (p) => (await readFile(join(src, p), "utf8")).split("\n").length - 1),
  );
  return files.filter((_, i) => lines[i]! > MAX_LINES).map((p) => `src/${p}`).sort();
}

Deno.test("every file in src/ over 450 lines is named in docs/architecture.md with the reason, and only those", async () => {
  const page = (await readPages()).find((p) => p.path === "docs/architecture.md")!;
  const explained = explainedLongFiles(page);
  const long = await longFiles();
  assert.ok(long.length > 0 || explained.size === 0, "measured src/");
  assert.deepEqual(long.filter((path) => !explained.get(path)), [], "long files without a reason");
  assert.deepEqual(
    [...explained.keys()].filter((path) => !long.includes(path)).sort(),
    [],
    "named as long but no longer over 450 lines",
  );
});

Deno.test("explainedLongFiles() reads the paths and reasons of that section's table only", () => {
  const page: Page = {
    path: "docs/architecture.md",
    text: "# A\n\n| `src/a.ts` | not this section |\n\n## Files over 450 lines\n\n" +
      "| file | why |\n| --- | --- |\n| `src/b.ts` | it is one state machine |\n| `src/c.ts` |  |\n\n" +
      "## Next\n\n| `src/d.ts` | nor this |\n",
  };
  assert.deepEqual([...explainedLongFiles(page)], [["src/b.ts", true], ["src/c.ts", false]]);
});

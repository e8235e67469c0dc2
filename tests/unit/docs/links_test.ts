import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { dirname, join, normalize } from "node:path";
import {
  anchors,
  codeSpans,
  links,
  type Page,
  readPages,
  ROOT,
  slug,
  splitFences,
} from "./_markdown.ts";

/** Whether a repository-relative path exists (file or directory). */
type Exists = (path: string) => boolean;

const onDisk: Exists = (path) => existsSync(join(ROOT, path));

/**
 * Every relative link of `pages` whose file does not exist, or whose `#anchor`
 * names no heading of its page, as `page:line target (why)`.
 */
function brokenLinks(pages: Page[], exists: Exists): string[] {
  const anchorsOf = new Map(pages.map((p) => [p.path, anchors(splitFences(p.text, p.path).prose)]));
  return pages.flatMap((page) =>
    links(splitFences(page.text, page.path).prose).flatMap(({ target, line }) => {
      if (/^[a-z][a-z0-9+.-]*:/i.test(target)) return []; // https:, mailto:
      const [file = "", anchor] = target.split("#", 2);
      const path = file === "" ? page.path : normalize(join(dirname(page.path), file));
      const at = `${page.path}:${line} ${target}`;
      if (path.startsWith("..")) return [`${at} (outside the repository)`];
      if (!exists(path)) return [`${at} (no such file)`];
      if (anchor === undefined || anchor === "") return [];
      const known = anchorsOf.get(path);
      if (known === undefined) return [`${at} (an anchor into a page that is not checked)`];
      return known.has(anchor) ? [] : [`${at} (no heading with that anchor)`];
    })
  );
}

Deno.test("every relative link in README.md and docs/*.md points at an existing file and heading", async () => {
  assert.deepEqual(brokenLinks(await readPages(), onDisk), []);
});

Deno.test("brokenLinks() reports missing files, missing anchors and links out of the repository", () => {
  const pages: Page[] = [
    {
      path: "README.md",
      text: "# Intro\n\n[ok](docs/a.md#the-rules) [gone](docs/b.md) [bad](docs/a.md#nope)\n" +
        "[top](#intro) [out](../x.md) `[not a link](docs/c.md)` [web](https://kafka.apache.org)\n",
    },
    { path: "docs/a.md", text: "# A\n\n## The rules\n\n```md\n# Hidden\n```\n" },
  ];
  const exists: Exists = (path) => path === "README.md" || path === "docs/a.md";
  assert.deepEqual(brokenLinks(pages, exists), [
    "README.md:3 docs/b.md (no such file)",
    "README.md:3 docs/a.md#nope (no heading with that anchor)",
    "README.md:4 ../x.md (outside the repository)",
  ]);
});

/** The top-level entries of the repository that code spans may name. */
const REPOSITORY_PATH =
  /(?:^|[\s(=])\.?\/?((?:src|tests|scripts|bench|config|deploy|workers|docs|\.ci)\/[\w./-]*|Dockerfile|compose\.yaml|deno\.json|package\.json|\.dockerignore)/g;

/** Repository paths named in inline code and shell blocks that do not exist, as `page:line path`. */
function missingPaths(pages: Page[], exists: Exists): string[] {
  return pages.flatMap((page) => {
    const { fences, prose } = splitFences(page.text, page.path);
    const texts = [
      ...codeSpans(prose),
      ...fences.filter((f) => f.lang === "sh").map((f) => ({ text: f.body, line: f.line })),
    ];
    return texts.flatMap(({ text, line }) =>
      [...text.matchAll(REPOSITORY_PATH)]
        .map((match) => match[1]!.replace(/[.,;:]+$/, ""))
        .filter((path) => !exists(path))
        .map((path) => `${page.path}:${line} ${path}`)
    );
  });
}

Deno.test("every repository path named in README.md and docs/ exists", async () => {
  assert.deepEqual(missingPaths(await readPages(), onDisk), []);
});

Deno.test("missingPaths() finds paths in inline code and shell blocks only", () => {
  const pages: Page[] = [{
    path: "docs/x.md",
    text: "`src/gone.ts` and `deno test tests/unit/` src/prose.ts\n\n```sh\nls config/none/\n```\n",
  }];
  assert.deepEqual(missingPaths(pages, (path) => path === "tests/unit/"), [
    "docs/x.md:1 src/gone.ts",
    "docs/x.md:3 config/none/",
  ]);
});

Deno.test("README.md is a front door: at most 300 lines, and it links every docs page", async () => {
  const pages = await readPages();
  const readme = pages[0]!;
  const lines = readme.text.split("\n").length - 1;
  assert.ok(lines <= 300, `README.md has ${lines} lines, more than 300`);
  const linked = new Set(
    links(splitFences(readme.text, readme.path).prose).map((l) => l.target.split("#")[0]),
  );
  const docs = pages.slice(1).map((p) => p.path);
  assert.ok(docs.length >= 13, `only ${docs.length} docs pages`);
  assert.deepEqual(docs.filter((path) => !linked.has(path)), [], "docs pages the README misses");
});

Deno.test("every docs page opens with the question it answers", async () => {
  const pages = (await readPages()).slice(1);
  const openings = pages.map((page) => {
    const [title, opening] = page.text.split(/\n\s*\n/);
    return { page: page.path, title, opening: opening?.replace(/\s+/g, " ") };
  });
  for (const { page, title, opening } of openings) {
    assert.match(title ?? "", /^# \S/, `${page} starts with its title`);
    assert.match(opening ?? "", /^\*\*[^*]+\?\*\*$/, `${page}: the paragraph after the title`);
  }
});

Deno.test("slug() makes GitHub's heading anchors", () => {
  assert.equal(slug("## Workers and the sandbox"), "workers-and-the-sandbox");
  assert.equal(slug("### `kafka:`"), "kafka");
  assert.equal(slug("## What `check --diff` prints"), "what-check---diff-prints");
  assert.deepEqual([...anchors("# A\n## B\n## B\n")], ["a", "b", "b-1"]);
});

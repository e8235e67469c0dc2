/**
 * The parts of the project's Markdown pages that the docs tests check:
 * fenced blocks, inline code, links and heading anchors. Enough of CommonMark
 * for pages formatted by `deno fmt`, not a general parser.
 *
 * Fenced blocks follow one convention, checked by `examples_test.ts`: the
 * info string is a language and optional words; the word `partial` marks a
 * block that is deliberately incomplete (a fragment of a file), which is then
 * checked less strictly or not at all; `project <file>` marks a file of the
 * handler project that docs/handlers.md walks through, which
 * tests/e2e/handler_project_test.ts writes and runs ({@linkcode projectFiles}).
 *
 * @module
 */
import { readdir, readFile } from "node:fs/promises";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";

/** The repository root. */
export const ROOT: string = fileURLToPath(new URL("../../../", import.meta.url));

/** One Markdown page of the repository. */
export interface Page {
  /** Path relative to the repository root, e.g. `docs/offsets.md`. */
  path: string;
  text: string;
}

/** README.md and every `docs/*.md`, in that order. */
export async function readPages(root = ROOT): Promise<Page[]> {
  const docs = (await readdir(join(root, "docs"))).filter((name) => name.endsWith(".md")).sort();
  const paths = ["README.md", ...docs.map((name) => `docs/${name}`)];
  return await Promise.all(
    paths.map(async (path) => ({ path, text: await readFile(join(root, path), "utf8") })),
  );
}

/** A fenced code block. */
export interface Fence {
  /** The page it is on. */
  page: string;
  /** 1-based line of the opening fence. */
  line: number;
  /** The language, the info string's first word (`""` for none). */
  lang: string;
  /** The info string's other words, e.g. `["partial"]`. */
  words: string[];
  /** The content, without the fences and their indentation. */
  body: string;
}

const OPEN = /^(\s*)(`{3,}|~{3,})\s*([^`]*)$/;

/**
 * Every fenced block of `text`, and the text with each block's lines blanked
 * (line numbers kept) as `prose`.
 *
 * @example
 * ```ts
 * splitFences("a\n```sh\nls\n```\n", "x.md").fences[0]?.body; // "ls"
 * ```
 */
export function splitFences(text: string, page: string): { fences: Fence[]; prose: string } {
  const lines = text.split("\n");
  const fences: Fence[] = [];
  const prose: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = OPEN.exec(lines[i]!);
    if (open === null) {
      prose.push(lines[i]!);
      continue;
    }
    const [, indent = "", marker = "```", info = ""] = open;
    const body: string[] = [];
    let j = i + 1;
    for (; j < lines.length; j++) {
      const close = /^\s*(`{3,}|~{3,})\s*$/.exec(lines[j]!);
      if (close && close[1]![0] === marker[0] && close[1]!.length >= marker.length) break;
      body.push(lines[j]!.startsWith(indent) ? lines[j]!.slice(indent.length) : lines[j]!.trim());
    }
    const [lang = "", ...words] = info.trim().split(/\s+/).filter((w) => w !== "");
    fences.push({ page, line: i + 1, lang, words, body: body.join("\n") });
    for (let k = i; k <= j && k < lines.length; k++) prose.push("");
    i = j;
  }
  return { fences, prose: prose.join("\n") };
}

function lineAt(text: string, index: number): number {
  let line = 1;
  for (let i = 0; i < index; i++) if (text[i] === "\n") line++;
  return line;
}

/** An inline code span of the prose, its whitespace collapsed as Markdown renders it. */
export interface Span {
  text: string;
  line: number;
}

const CODE_SPAN = /(`+)([\s\S]*?[^`])\1(?!`)/g;

/**
 * The inline code spans of `prose` (fenced blocks already blanked).
 *
 * @example
 * ```ts
 * codeSpans("run `deno task\ndev` now")[0]?.text; // "deno task dev"
 * ```
 */
export function codeSpans(prose: string): Span[] {
  return [...prose.matchAll(CODE_SPAN)].map((match) => ({
    text: match[2]!.replace(/\s+/g, " ").trim(),
    line: lineAt(prose, match.index),
  }));
}

/** A link or image of the prose. */
export interface Link {
  target: string;
  line: number;
}

/**
 * The targets of the inline links and images of `prose`, outside code spans.
 *
 * @example
 * ```ts
 * links("see [offsets](docs/offsets.md#worked-example)")[0]?.target;
 * // "docs/offsets.md#worked-example"
 * ```
 */
export function links(prose: string): Link[] {
  const blanked = prose.replace(CODE_SPAN, (span) => span.replace(/[^\n]/g, " "));
  return [...blanked.matchAll(/!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)].map(
    (match) => ({ target: match[1]!, line: lineAt(blanked, match.index) }),
  );
}

/**
 * The anchor GitHub gives a heading: lower case, punctuation dropped, spaces
 * as hyphens.
 *
 * @example
 * ```ts
 * slug("### `consumers:` and `defaults:`"); // "consumers-and-defaults"
 * ```
 */
export function slug(heading: string): string {
  return heading
    .replace(/^#+\s*/, "")
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, "")
    .replace(/\s/g, "-");
}

/** Every heading anchor of a page, numbered as GitHub numbers repeated headings. */
export function anchors(prose: string): Set<string> {
  const seen = new Map<string, number>();
  const result = new Set<string>();
  for (const line of prose.split("\n")) {
    if (!/^#{1,6}\s/.test(line)) continue;
    const base = slug(line);
    const count = seen.get(base) ?? 0;
    seen.set(base, count + 1);
    result.add(count === 0 ? base : `${base}-${count}`);
  }
  return result;
}

/** `path` relative to the repository root, with `/` separators. */
export function fromRoot(path: string, root = ROOT): string {
  return relative(root, path).split("\\").join("/");
}

/** The page that walks through a handler project, file by file. */
export const PROJECT_PAGE = "docs/handlers.md";

/**
 * The handler project's files as `page` gives them: each block marked
 * ```` ```<lang> project <file> ````, by file name.
 *
 * @example
 * ```ts
 * projectFiles(await readFile("docs/handlers.md", "utf8"))["handler.ts"];
 * ```
 */
export function projectFiles(text: string, page = PROJECT_PAGE): Record<string, string> {
  const files: Record<string, string> = {};
  for (const fence of splitFences(text, page).fences) {
    if (fence.words[0] !== "project" || fence.words.length !== 2) continue;
    files[fence.words[1]!] = `${fence.body}\n`;
  }
  return files;
}

/**
 * Every example in README.md and docs/ is checked, by the kind its fence
 * names:
 *
 * - ```yaml — a whole consumers.yaml: loaded as `consumerd check` loads it,
 *   handler modules included;
 * - ```yaml partial — not a whole consumers.yaml (a fragment of one, or of
 *   another tool's file, such as a Prometheus scrape config): parsed as YAML
 *   only, because it lacks the fields a config needs;
 * - ```ts — a handler module: type-checked against src/mod.ts (its first line
 *   may name its file, `// workers/audit.ts`, which YAML examples can use);
 * - ```ts partial — a fragment of a module: not checked, it does not compile alone;
 * - ```json — parsed; ```sh — every task, npm script and consumerd command it
 *   names exists (inline code is checked the same way);
 * - ```text (output) and ```mermaid (a diagram) — not checked;
 * - ```ts project <file> and ```yaml project <file> on docs/handlers.md — a file
 *   of the handler project that page walks through: written and run by
 *   tests/e2e/handler_project_test.ts (it imports packages only that project has).
 *
 * @module
 */
import assert from "node:assert/strict";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { parse as parseYaml } from "yaml";
import { ConfigError, formatIssue } from "../../../src/config/error.ts";
import { loadConfigFile } from "../../../src/config/load.ts";
import {
  codeSpans,
  type Fence,
  type Page,
  PROJECT_PAGE,
  projectFiles,
  readPages,
  ROOT,
  splitFences,
} from "./_markdown.ts";

const KINDS: Record<string, readonly string[]> = {
  yaml: ["", "partial"],
  ts: ["", "partial"],
  json: [""],
  sh: [""],
  text: [""],
  mermaid: [""],
};

/** Variables the YAML examples may name; fixed so the machine's environment does not matter. */
const EXAMPLE_ENV = {
  CONSUMERD_TOKEN: "example-token",
  KAFKA_PASSWORD: "example-password",
  KAFKA_USER: "example-user",
  HOSTNAME: "example-host",
};

const pages = await readPages();
const fences = pages.flatMap((page) => splitFences(page.text, page.path).fences);
const where = (fence: Fence) => `${fence.page}:${fence.line}`;
const kind = (lang: string, word = "") => (f: Fence) =>
  f.lang === lang && f.words.join(" ") === word;

/** A file of the handler project on its page (checked by running it: tests/e2e/handler_project_test.ts). */
const isProjectFile = (f: Fence) =>
  f.page === PROJECT_PAGE && ["ts", "yaml"].includes(f.lang) && f.words[0] === "project" &&
  /^[\w.-]+$/.test(f.words[1] ?? "") && f.words.length === 2;

Deno.test("every fenced block in README.md and docs/ says what it is", () => {
  const unknown = fences
    .filter((f) => !(KINDS[f.lang] ?? []).includes(f.words.join(" ")) && !isProjectFile(f))
    .map((f) => `${where(f)} \`\`\`${[f.lang, ...f.words].join(" ")}`);
  assert.deepEqual(unknown, [], `use one of: ${JSON.stringify(KINDS)}`);
});

/** Where a TypeScript example goes: the file its first line names, else one of its own. */
function handlerFile(fence: Fence, index: number): string {
  const named = /^\/\/ (workers\/[\w.-]+\.ts)\b/.exec(fence.body)?.[1];
  return named ?? `workers/example-${index}.ts`;
}

/** A handler example as a file outside the repository: its import of src/mod.ts made absolute. */
function asModule(body: string): string {
  const mod = pathToFileURL(join(ROOT, "src/mod.ts")).href;
  return body.replaceAll(`"../src/mod.ts"`, JSON.stringify(mod));
}

/** A temporary project holding the examples. */
interface Project {
  dir: string;
  /** The TypeScript examples, as files, and where each is written in the docs. */
  modules: { file: string; fence: Fence }[];
}

/**
 * A directory laid out like a project: every TypeScript example (at the path
 * it names), the repository's own `workers/`, and every YAML example beside them.
 */
async function exampleProject(): Promise<Project> {
  const dir = await mkdtemp(join(tmpdir(), "consumerd-docs-"));
  await mkdir(join(dir, "workers"));
  await writeFile(
    join(dir, "workers/log.ts"),
    asModule(await readFile(join(ROOT, "workers/log.ts"), "utf8")),
  );
  const modules: Project["modules"] = [];
  const written = new Set<string>();
  for (const [index, fence] of fences.filter(kind("ts")).entries()) {
    let path = handlerFile(fence, index);
    if (written.has(path)) path = `workers/example-${index}.ts`;
    written.add(path);
    await writeFile(join(dir, path), asModule(fence.body));
    modules.push({ file: join(dir, path), fence });
  }
  return { dir, modules };
}

/** Runs `fn` on a fresh example project and removes it afterwards, pass or fail. */
async function withProject(fn: (project: Project) => Promise<void>): Promise<void> {
  const project = await exampleProject();
  try {
    await fn(project);
  } finally {
    await rm(project.dir, { recursive: true, force: true });
  }
}

/** What `consumerd check` says about a YAML example, as `page:line file:line:col path: message`. */
async function configProblems(project: Project, fence: Fence, name: string): Promise<string[]> {
  const file = join(project.dir, name);
  await writeFile(file, fence.body);
  try {
    await loadConfigFile(file, { env: EXAMPLE_ENV });
    return [];
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    return error.issues.map((issue) =>
      `${where(fence)}: ${formatIssue(issue).replace(project.dir, "<example>")}`
    );
  }
}

Deno.test("every consumers.yaml example in README.md and docs/ passes `consumerd check`", async () => {
  const configs = fences.filter(kind("yaml"));
  assert.ok(configs.length >= 2, `only ${configs.length} YAML examples found`);
  await withProject(async (project) => {
    const problems: string[] = [];
    for (const [index, fence] of configs.entries()) {
      problems.push(...await configProblems(project, fence, `example-${index}.yaml`));
    }
    assert.deepEqual(problems, []);
  });
});

Deno.test("configProblems() reports what check reports, handler modules included", async () => {
  const fence: Fence = {
    page: "docs/x.md",
    line: 3,
    lang: "yaml",
    words: [],
    body: "consumers:\n  - name: a\n    group: g\n    topic: t\n    handler: ./workers/gone.ts\n" +
      "    retyr: {}\n",
  };
  const problems: string[] = [];
  await withProject(async (project) => {
    problems.push(...await configProblems(project, fence, "bad.yaml"));
  });
  assert.equal(problems.length, 2, problems.join("\n"));
  assert.match(
    problems[0]!,
    /^docs\/x\.md:3: <example>\/bad\.yaml:5:14 consumers\[0\]\.handler: handler file not found/,
  );
  assert.match(
    problems[1]!,
    /consumers\[0\]\.retyr: unknown key "retyr" \(did you mean "retry"\?\)/,
  );
});

Deno.test("every partial YAML example parses as YAML (fragments and other tools' files are not consumers.yaml, so they are not validated)", () => {
  const problems = fences.filter(kind("yaml", "partial")).flatMap((fence) => {
    try {
      parseYaml(fence.body);
      return [];
    } catch (error) {
      return [`${where(fence)}: ${(error as Error).message}`];
    }
  });
  assert.deepEqual(problems, []);
});

Deno.test("every JSON example parses", () => {
  const problems = fences.filter(kind("json")).flatMap((fence) => {
    try {
      JSON.parse(fence.body);
      return [];
    } catch (error) {
      return [`${where(fence)}: ${(error as Error).message}`];
    }
  });
  assert.deepEqual(problems, []);
});

Deno.test("every TypeScript example type-checks as a handler module against src/mod.ts (partial ones are fragments and are not checked)", async () => {
  await withProject(async (project) => {
    assert.ok(project.modules.length >= 2, `only ${project.modules.length} TypeScript examples`);
    const { code, stderr } = await new Deno.Command(Deno.execPath(), {
      args: [
        "check",
        "--quiet",
        "--config",
        join(ROOT, "deno.json"),
        ...project.modules.map((m) => m.file),
      ],
      stdout: "null",
      stderr: "piped",
    }).output();
    const out = new TextDecoder().decode(stderr).replaceAll(project.dir, "<example>");
    const legend = project.modules.map(({ file, fence }) =>
      `${file.replace(project.dir, "<example>")} is ${where(fence)}`
    );
    assert.equal(code, 0, `deno check failed on an example:\n${out}\n${legend.join("\n")}`);
  });
});

/** The names a page may use: tasks, npm scripts, consumerd commands, broker commands. */
async function knownNames(): Promise<Record<string, Set<string>>> {
  const denoJson = JSON.parse(await readFile(join(ROOT, "deno.json"), "utf8"));
  const packageJson = JSON.parse(await readFile(join(ROOT, "package.json"), "utf8"));
  const cases = async (file: string) =>
    new Set(
      [...(await readFile(join(ROOT, file), "utf8")).matchAll(/case "([a-z-]+)":/g)].map((m) =>
        m[1]!
      ),
    );
  return {
    task: new Set(Object.keys(denoJson.tasks)),
    script: new Set(Object.keys(packageJson.scripts)),
    command: await cases("src/main.ts"),
    kafka: await cases("scripts/kafka.ts"),
  };
}

const COMMANDS: [RegExp, string][] = [
  [/\bdeno task ([\w:-]+)/g, "task"],
  [/\bnpm run ([\w:-]+)/g, "script"],
  [/\bnpm (start|test)\b/g, "script"],
  [/(?:\bconsumerd|src\/main\.ts|\btask run|run consumerd --)\s+([a-z][\w-]*)/g, "command"],
  [/(?:task kafka|run kafka --)\s+([a-z][\w-]*)/g, "kafka"],
];

/** Every task, script or command named in `text` that does not exist. */
function unknownNames(text: string, known: Record<string, Set<string>>): string[] {
  return COMMANDS.flatMap(([pattern, what]) =>
    [...text.matchAll(pattern)]
      .map((match) => match[1]!)
      .filter((name) => !known[what]!.has(name))
      .map((name) => `${what} ${name}`)
  );
}

function commandTexts(page: Page): { text: string; line: number }[] {
  const { fences, prose } = splitFences(page.text, page.path);
  return [
    ...codeSpans(prose),
    ...fences.filter((f) => f.lang === "sh").map((f) => ({ text: f.body, line: f.line })),
  ];
}

Deno.test("every task, npm script and consumerd command in README.md and docs/ exists", async () => {
  const known = await knownNames();
  const problems = pages.flatMap((page) =>
    commandTexts(page).flatMap(({ text, line }) =>
      unknownNames(text, known).map((name) => `${page.path}:${line} ${name}`)
    )
  );
  assert.deepEqual(problems, []);
  const named = pages.flatMap(commandTexts).map((t) => t.text).join("\n");
  assert.deepEqual(unknownNames("deno task tset; npm run kafak; consumerd chekc", known), [
    "task tset",
    "script kafak",
    "command chekc",
  ]);
  assert.match(named, /deno task dev/, "the quick start names `deno task dev`");
});

Deno.test("the handler project on docs/handlers.md has the files its end-to-end test runs", () => {
  const page = pages.find((p) => p.path === PROJECT_PAGE)!;
  assert.deepEqual(Object.keys(projectFiles(page.text)).sort(), [
    "consumers.yaml",
    "handler.ts",
    "handler_test.ts",
    "money.ts",
  ]);
});

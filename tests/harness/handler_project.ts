/**
 * The handler project docs/handlers.md walks through, built as the page
 * says: `consumerd init`, its npm dependency installed beside it, the
 * page's files, `deno test`. The dependency is a tiny pure-JS package
 * packed and installed from a tarball (as from a registry, without one); it
 * reads a data file of its own at import.
 *
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { parse, stringify } from "yaml";
import { PROJECT_PAGE, projectFiles, ROOT } from "../unit/docs/_markdown.ts";

/** The npm package the handler depends on: prices from a rates file it reads itself. */
const PACKAGE = {
  "package.json": JSON.stringify({
    name: "order-pricing",
    version: "1.0.0",
    type: "module",
    exports: { ".": { types: "./index.d.ts", default: "./index.js" } },
  }),
  "index.js": `import { readFileSync } from "node:fs";
const rates = JSON.parse(readFileSync(new URL("./rates.json", import.meta.url), "utf8"));
export function price(order) {
  return order.quantity * rates[order.sku];
}
`,
  "index.d.ts":
    "export declare function price(order: { sku: string; quantity: number }): number;\n",
  "rates.json": JSON.stringify({ apple: 3, pear: 5 }),
};

/** Runs a command in `cwd`; throws with its output when it fails, else returns it. */
export async function run(command: string, args: string[], cwd: string): Promise<string> {
  const out = await new Deno.Command(command, { args, cwd, stdout: "piped", stderr: "piped" })
    .output();
  const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
  if (!out.success) throw new Error(`${command} ${args.join(" ")} failed:\n${text}`);
  return text;
}

/** Runs `npm` in `cwd`, quietly. */
const npm = (args: string[], cwd: string) =>
  run("npm", [...args, "--no-audit", "--no-fund", "--loglevel=error"], cwd);

/** Writes `files` into `dir`. */
async function writeFiles(dir: string, files: Record<string, string>): Promise<void> {
  await Deno.mkdir(dir, { recursive: true });
  for (const [name, text] of Object.entries(files)) await Deno.writeTextFile(join(dir, name), text);
}

/**
 * The page's project in `dir`: scaffolded by `init` (run by `consumerd`, a
 * command line that runs consumerd), `order-pricing` installed from a
 * tarball (npm pack, npm install), the page's files written over the
 * scaffold's; `deno test` passes there.
 */
export async function handlerProject(dir: string, consumerd: string[]): Promise<void> {
  const [command, ...args] = consumerd;
  await run(command!, [...args, "init", dir], join(dir, ".."));
  const source = join(dir, "..", "order-pricing");
  await writeFiles(source, PACKAGE);
  const tarball = (await npm(["pack", "--pack-destination", join(dir, "..")], source)).trim()
    .split("\n").at(-1)!;
  await npm(["install", join(dir, "..", tarball)], dir);
  const page = await Deno.readTextFile(join(ROOT, PROJECT_PAGE));
  await writeFiles(dir, projectFiles(page));
  const tested = await run(Deno.execPath(), ["test", "--allow-read=."], dir);
  assert.match(tested, /1 passed/, tested);
}

/**
 * The project's consumers.yaml (the page's) with `changes` to its
 * consumer (topic, group, …) and `top` to the file (say, `http`).
 */
export async function projectConfig(
  dir: string,
  changes: Record<string, unknown>,
  top: Record<string, unknown> = {},
): Promise<string> {
  const written = parse(await Deno.readTextFile(join(dir, "consumers.yaml")));
  const [consumer] = written.consumers;
  return stringify({ ...written, ...top, consumers: [{ ...consumer, ...changes }] });
}

import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { fingerprintBytes } from "../../../src/supervisor/fingerprint.ts";
import {
  candidates,
  localSpecifiers,
  MISSING,
  moduleGraph,
  moduleGraphSync,
} from "../../../src/supervisor/module_graph.ts";

Deno.test("localSpecifiers() finds static imports, re-exports and literal dynamic imports of local files only", () => {
  const source = [
    'import { a } from "./a.ts";',
    "import b, {",
    "  c,",
    "} from '../b.ts';",
    'import "./side.ts";',
    'import type { T } from "./types.ts";',
    'export type { U } from "./types2.ts";',
    'import type from "./named-type.ts";',
    'import { type V, w } from "./mixed.ts";',
    'export * from "./all.ts";',
    'export { d } from "/abs/d.ts";',
    'import data from "./data.json" with { type: "json" };',
    'const lazy = await import("./lazy.ts");',
    "const tpl = await import(`./template.ts`);",
    'const cjs = require("./common.cjs");',
    'import z from "npm:zod";',
    'import { join } from "node:path";',
    'import kafka from "kafkajs";',
    'import x from "https://example.com/x.ts";',
    'import u from "file:///srv/u.ts";',
    "const computed = await import(`./${name}.ts`);",
    "const named = await import(name);",
    'const a2 = Array.from("./not-an-import");',
    'import { a as again } from "./a.ts";',
  ].join("\n");
  assert.deepEqual(localSpecifiers(source), [
    "./a.ts",
    "../b.ts",
    "./named-type.ts",
    "./mixed.ts",
    "./all.ts",
    "/abs/d.ts",
    "./data.json",
    "file:///srv/u.ts",
    "./side.ts",
    "./lazy.ts",
    "./template.ts",
    "./common.cjs",
  ]);
});

Deno.test("candidates() tries a path as written, then as Bun resolves it: .ts for .js, extensions and index files", () => {
  assert.deepEqual(candidates("/srv/w/h.ts", "./lib.ts"), ["/srv/w/lib.ts"]);
  assert.deepEqual(candidates("/srv/w/h.ts", "../lib.js"), ["/srv/lib.js", "/srv/lib.ts"]);
  assert.deepEqual(candidates("/srv/w/h.ts", "file:///x/y.ts?v=2"), ["/x/y.ts"]);
  const bare = candidates("/srv/w/h.ts", "./lib");
  assert.equal(bare[0], "/srv/w/lib");
  assert.ok(bare.includes("/srv/w/lib.ts") && bare.includes("/srv/w/lib/index.ts"));
  assert.deepEqual(candidates("/srv/w/h.ts", "file://elsewhere/x.ts"), []);
});

/** Writes `files` (path relative to a new temporary directory → text); returns the directory. */
async function tree(files: Record<string, string>): Promise<string> {
  const dir = await Deno.makeTempDir();
  for (const [path, text] of Object.entries(files)) {
    await Deno.mkdir(join(dir, path, ".."), { recursive: true });
    await Deno.writeTextFile(join(dir, path), text);
  }
  return dir;
}

Deno.test("moduleGraph() follows local imports recursively, once each (cycles too), not bare ones", async () => {
  const dir = await tree({
    "w/h.ts": 'import "./lib.ts";\nimport "npm:zod";\nawait import("../shared/util");\n',
    "w/lib.ts": 'import "./h.ts";\nimport "../shared/util.ts";\n',
    "shared/util.ts": 'export * from "./gone.ts";\n',
  });
  try {
    const entry = join(dir, "w/h.ts");
    const graph = await moduleGraph(entry);
    assert.deepEqual([...graph.modules.keys()], [
      entry,
      join(dir, "w/lib.ts"),
      join(dir, "shared/util.ts"),
      join(dir, "shared/gone.ts"),
    ]);
    assert.equal(graph.modules.get(join(dir, "shared/gone.ts")), MISSING);
    assert.equal(graph.truncated, false);
    assert.deepEqual(moduleGraphSync(entry), graph, "the synchronous read gives the same graph");

    const before = graph.fingerprint;
    await Deno.writeTextFile(join(dir, "shared/util.ts"), "export const u = 1;\n");
    assert.notEqual((await moduleGraph(entry)).fingerprint, before, "an imported module's edit");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("moduleGraph() of a handler that imports no local module is its bytes' fingerprint", async () => {
  const text = 'import z from "npm:zod";\nexport default function handle() {}\n';
  const dir = await tree({ "h.ts": text });
  try {
    const graph = await moduleGraph(join(dir, "h.ts"));
    assert.equal(graph.fingerprint, fingerprintBytes(new TextEncoder().encode(text)));
    assert.equal((await moduleGraph(join(dir, "nope.ts"))).fingerprint, MISSING);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("moduleGraph() does not depend on where the graph lies, only on its paths relative to the handler", async () => {
  const files = { "h.ts": 'import "./lib/a.ts";\n', "lib/a.ts": "export {};\n" };
  const [one, two] = [await tree(files), await tree(files)];
  try {
    assert.equal(
      (await moduleGraph(join(one, "h.ts"))).fingerprint,
      (await moduleGraph(join(two, "h.ts"))).fingerprint,
    );
  } finally {
    await Deno.remove(one, { recursive: true });
    await Deno.remove(two, { recursive: true });
  }
});

Deno.test("moduleGraph() stops at maxModules and says so", async () => {
  const files: Record<string, string> = {};
  for (let i = 0; i < 10; i++) files[`m${i}.ts`] = `import "./m${i + 1}.ts";\n`;
  const dir = await tree(files);
  try {
    const graph = await moduleGraph(join(dir, "m0.ts"), { maxModules: 4 });
    assert.equal(graph.modules.size, 4);
    assert.equal(graph.truncated, true);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

const BUN = fileURLToPath(new URL("../../../node_modules/.bin/bun", import.meta.url));
const PROBE = fileURLToPath(new URL("./fixtures/module_graph_probe.ts", import.meta.url));

Deno.test({
  name: "moduleGraph() is the same on Bun and on Deno, and names the files each runtime imports",
  ignore: !existsSync(BUN),
  fn: async () => {
    const dir = await tree({
      "h.ts": 'import { a } from "./lib/a.ts";\nexport default function handle() { a(); }\n',
      "lib/a.ts": 'import { b } from "./b.ts";\nexport const a = () => b;\n',
      "lib/b.ts": "export const b = 1;\n",
    });
    try {
      const run = async (command: string, args: string[]) => {
        const out = await new Deno.Command(command, { args, stdout: "piped", stderr: "piped" })
          .output();
        assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
        return JSON.parse(new TextDecoder().decode(out.stdout));
      };
      const entry = join(dir, "h.ts");
      const onDeno = await run(Deno.execPath(), ["run", "-A", PROBE, entry]);
      const onBun = await run(BUN, ["run", PROBE, entry]);
      assert.deepEqual(onBun, onDeno);
      assert.deepEqual(onDeno.modules.map(([path]: [string]) => path), [
        entry,
        join(dir, "lib/a.ts"),
        join(dir, "lib/b.ts"),
      ]);
      assert.equal(onDeno.sameSync, true);
      assert.equal(onDeno.imported, "function");
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

import assert from "node:assert/strict";
import { join } from "node:path";
import { handlerProblem } from "../../../src/config/handler.ts";
import { type HandlerCheck, loadConfigFile } from "../../../src/config/load.ts";
import type { Config } from "../../../src/config/types.ts";
import { createLogger } from "../../../src/log.ts";
import { runtime } from "../../../src/runtime/mod.ts";
import type { ConfigDiff } from "../../../src/supervisor/config_diff.ts";
import { Reloader } from "../../../src/supervisor/reload.ts";

const HANDLER = "export default function handle() {}\n";
const yaml = (...consumers: string[]) =>
  ["kafka:", "  brokers: k:9092", "consumers:", ...consumers].join("\n") + "\n";
const consumer = (name: string, extra = "") =>
  `  - { name: ${name}, group: g-${name}, topic: t, handler: ./${name}.ts${extra} }`;

/**
 * The check `check` runs, in this process: the daemon's default probe runs
 * the same check in a throwaway worker (tests/e2e/reload_test.ts).
 */
const inProcess = ({ path, timeoutMs }: HandlerCheck) => handlerProblem(path, { timeoutMs });

/**
 * A reloader over a temporary config whose apply step records what it was
 * asked to do; its handler check runs in this process, or as `probe` says
 * (`"worker"`: the daemon's own probe).
 */
async function setup(
  { probe = inProcess }: {
    probe?: "worker" | ((check: HandlerCheck, dir: string) => Promise<string | undefined>);
  } = {},
) {
  const dir = await Deno.makeTempDir();
  const path = join(dir, "consumers.yaml");
  for (const name of ["a", "b", "c"]) await Deno.writeTextFile(join(dir, `${name}.ts`), HANDLER);
  await Deno.writeTextFile(path, yaml(consumer("a"), consumer("b")));
  let running: Config = await loadConfigFile(path);
  const applied: ConfigDiff[] = [];
  const lines: string[] = [];
  const reloader = new Reloader(running, {
    runtime,
    logger: createLogger({ write: (l) => lines.push(l) }),
    current: () => running,
    ...(probe === "worker" ? {} : { probeHandler: (check) => probe(check, dir) }),
    apply: (next, diff) => {
      applied.push(diff);
      running = next;
      return Promise.resolve();
    },
  });
  await reloader.init();
  return { dir, path, reloader, applied, lines };
}

/** Runs `fn` with a reloader from {@linkcode setup}, then closes it and removes its directory. */
async function withReloader(
  options: Parameters<typeof setup>[0],
  fn: (ctx: Awaited<ReturnType<typeof setup>>) => Promise<void>,
): Promise<void> {
  const ctx = await setup(options);
  try {
    await fn(ctx);
  } finally {
    ctx.reloader.close();
    await Deno.remove(ctx.dir, { recursive: true });
  }
}

/** Waits until `fn` holds, at most `timeoutMs`; returns whether it did. */
async function until(fn: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!await fn()) {
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 25));
  }
  return true;
}

const exists = (path: string) => Deno.stat(path).then(() => true, () => false);

Deno.test("Reloader.reload() applies a handler edit as a restart of its consumers only", async () => {
  await withReloader({}, async ({ dir, reloader, applied }) => {
    await Deno.writeTextFile(join(dir, "b.ts"), `// edited\n${HANDLER}`);
    const result = await reloader.reload("SIGHUP");
    assert.equal(result.ok, true, JSON.stringify(result.errors));
    assert.equal(result.revision, 2);
    assert.deepEqual(result.restarted, ["b"]);
    assert.deepEqual(result.restartReasons, { b: ["handler"] });
    assert.deepEqual(result.unchanged, ["a"]);
    assert.equal(applied.length, 1);
    assert.deepEqual(reloader.state().lastReload?.ok, true);
  });
});

Deno.test("Reloader.reload() rejects an invalid file whole: nothing applied, every error positioned", async () => {
  await withReloader({}, async ({ path, reloader, applied, lines }) => {
    await Deno.writeTextFile(
      path,
      yaml(
        consumer("a", ", replicas: x"),
        "  - { name: c, group: g-c, topic: t, handler: ./nope.ts }",
      ),
    );
    const result = await reloader.reload("http");
    assert.equal(result.ok, false);
    assert.equal(result.applied, false);
    assert.equal(result.revision, 1);
    assert.equal(applied.length, 0, "nothing was applied");
    assert.deepEqual(result.errors.map((e) => [e.line, e.path]), [
      [4, "consumers[0].replicas"],
      [5, "consumers[1].handler"],
    ]);
    assert.ok(result.errors.every((e) => e.column > 0 && e.file === path));
    const state = reloader.state();
    assert.equal(state.lastReload?.ok, false);
    assert.equal(state.lastReload?.errors.length, 2);
    assert.equal(lines.filter((l) => JSON.parse(l).msg === "invalid config").length, 2);
  });
});

Deno.test("Reloader.reload() of an unchanged file applies nothing and keeps the revision", async () => {
  await withReloader({}, async ({ path, reloader, applied }) => {
    await Deno.writeTextFile(path, `# a comment\n${yaml(consumer("a"), consumer("b"))}`);
    const result = await reloader.reload("SIGHUP");
    assert.equal(result.ok, true);
    assert.equal(result.applied, false);
    assert.equal(result.revision, 1);
    assert.equal(applied.length, 0);
  });
});

Deno.test("Reloader.reload() with reload.handlers off ignores handler edits", async () => {
  await withReloader({}, async ({ dir, path, reloader, applied }) => {
    await Deno.writeTextFile(
      path,
      `reload: { handlers: false }\n${yaml(consumer("a"), consumer("b"))}`,
    );
    await Deno.writeTextFile(join(dir, "a.ts"), `// edited\n${HANDLER}`);
    const result = await reloader.reload("SIGHUP");
    assert.equal(result.applied, true, "the reload: section itself changed");
    assert.deepEqual(result.restarted, []);
    assert.deepEqual(result.unchanged, ["a", "b"]);
    assert.equal(applied.length, 1);
  });
});

Deno.test("Reloader.reload() gives a handler's import its consumer's startupTimeoutMs, not a fixed deadline", async () => {
  await withReloader({ probe: "worker" }, async ({ dir, path, reloader, applied }) => {
    // Valid, but its top level takes 3 s to finish.
    await Deno.writeTextFile(
      join(dir, "slow.ts"),
      `await new Promise((r) => setTimeout(r, 3000));\n${HANDLER}`,
    );
    const slow = (startupTimeoutMs: number) =>
      `  - { name: slow, group: g-slow, topic: t, handler: ./slow.ts, startupTimeoutMs: ${startupTimeoutMs} }`;
    await Deno.writeTextFile(path, yaml(consumer("a"), consumer("b"), slow(2000)));
    const refused = await reloader.reload("SIGHUP");
    assert.equal(refused.ok, false, "a 3 s import is past a startupTimeoutMs of 2000");
    assert.deepEqual(refused.errors.map((e) => [e.line, e.path]), [[6, "consumers[2].handler"]]);
    assert.match(refused.errors[0]!.message, /within startupTimeoutMs \(2000 ms\)/);
    assert.equal(applied.length, 0);

    await Deno.writeTextFile(path, yaml(consumer("a"), consumer("b"), slow(8000)));
    const result = await reloader.reload("SIGHUP");
    assert.equal(result.ok, true, JSON.stringify(result.errors));
    assert.deepEqual(result.added, ["slow"]);
  });
});

Deno.test("Reloader.reload() checks a handler again when it changes during its check, and records the version it checked", async () => {
  let edits = 0;
  await withReloader({
    probe: async (check, dir) => {
      const problem = await inProcess(check);
      // An editor saves b.ts while the reload checks it, once.
      if (check.path === join(dir, "b.ts") && edits++ === 0) {
        await Deno.writeTextFile(check.path, `// second save\n${HANDLER}`);
      }
      return problem;
    },
  }, async ({ dir, reloader, applied }) => {
    const b = join(dir, "b.ts");
    await Deno.writeTextFile(b, `// first save\n${HANDLER}`);
    const result = await reloader.reload("file");
    assert.equal(result.ok, true, JSON.stringify(result.errors));
    assert.deepEqual(result.restarted, ["b"]);
    assert.equal(edits, 2, "b.ts was checked again after the save during its check");
    assert.equal(applied.length, 1);
    assert.equal(reloader.uncheckedHandler(b), null, "the second save is the checked version");
  });
});

Deno.test("Reloader.reload() imports a handler saved during its check anew: a broken save is refused, not taken as checked", async () => {
  await withReloader({ probe: "worker" }, async ({ dir, path, reloader, applied }) => {
    const b = join(dir, "b.ts");
    const importing = join(dir, "importing");
    // The second save: valid, its top level says it runs, then takes 1.5 s (the worker probe's
    // permissions let it write to dir).
    await Deno.writeTextFile(
      path,
      yaml(consumer("a"), consumer("b", `, permissions: { write: [${JSON.stringify(dir)}] }`)),
    );
    await Deno.writeTextFile(
      b,
      `Deno.writeTextFileSync(${JSON.stringify(importing)}, "");\n` +
        `await new Promise((r) => setTimeout(r, 1500));\n${HANDLER}`,
    );
    const reload = reloader.reload("file");
    assert.ok(await until(() => exists(importing)), "the probe imports b.ts");
    // The third save, while the second is imported: broken.
    await Deno.writeTextFile(b, 'throw new Error("the third save is broken");\n');
    const result = await reload;
    assert.equal(result.ok, false, "the third save was checked as the second");
    assert.match(result.errors[0]!.message, /the third save is broken/);
    assert.equal(applied.length, 0);
  });
});

Deno.test("Reloader.reload() refuses a handler that changes during every check, saying so", async () => {
  let edits = 0;
  await withReloader({
    probe: async (check, dir) => {
      if (check.path === join(dir, "b.ts")) {
        await Deno.writeTextFile(check.path, `// save ${++edits}\n${HANDLER}`);
      }
      return await inProcess(check);
    },
  }, async ({ reloader, applied }) => {
    const result = await reloader.reload("file");
    assert.equal(result.ok, false);
    assert.equal(applied.length, 0);
    assert.deepEqual(result.errors.map((e) => e.line), [5]);
    assert.match(result.errors[0]!.message, /b\.ts changed while it was checked, 3 times/);
  });
});

Deno.test("Reloader.uncheckedHandler() holds a handler edited after its check until a reload checks it or it is back", async () => {
  // In workers: this process's module cache would hide the edits.
  await withReloader({ probe: "worker" }, async ({ dir, path, reloader }) => {
    const a = join(dir, "a.ts");
    assert.equal(reloader.uncheckedHandler(a), null, "the version at the start is the checked one");
    await Deno.writeTextFile(a, 'throw new Error("half-saved");\n');
    assert.match(String(reloader.uncheckedHandler(a)), /a\.ts was edited after it was checked/);
    assert.equal((await reloader.reload("file")).ok, false, "the edit itself is refused");
    assert.notEqual(reloader.uncheckedHandler(a), null, "a refused version is not checked");
    await Deno.writeTextFile(a, HANDLER);
    assert.equal(reloader.uncheckedHandler(a), null, "the checked version is back");
    await Deno.writeTextFile(a, `// v2\n${HANDLER}`);
    assert.equal((await reloader.reload("file")).ok, true);
    assert.equal(reloader.uncheckedHandler(a), null, "v2 was checked by the reload");
    await Deno.writeTextFile(path, `reload: { handlers: false }\n${yaml(consumer("a"))}`);
    assert.equal((await reloader.reload("file")).ok, true);
    await Deno.writeTextFile(a, `// v3\n${HANDLER}`);
    assert.equal(reloader.uncheckedHandler(a), null, "not followed with reload.handlers off");
  });
});

/** Makes a.ts import ./lib/double.ts (a directory the config's watch does not cover) and reloads that. */
async function importLib(dir: string, path: string, reloader: Reloader): Promise<string> {
  const lib = join(dir, "lib", "double.ts");
  await Deno.mkdir(join(dir, "lib"));
  await Deno.writeTextFile(lib, "export const double = (n: number) => 2 * n;\n");
  await Deno.writeTextFile(
    join(dir, "a.ts"),
    'import { double } from "./lib/double.ts";\nexport default function handle() { double(1); }\n',
  );
  // The probe, as the worker, may read what the handler imports only when granted.
  const read = `, permissions: { read: [${JSON.stringify(dir)}] }`;
  await Deno.writeTextFile(path, yaml(consumer("a", read), consumer("b")));
  const result = await reloader.reload("file");
  assert.equal(result.ok, true, JSON.stringify(result.errors));
  return lib;
}

Deno.test("Reloader.uncheckedHandler() holds a handler whose imported module was edited after its check; the reload of that edit checks it", async () => {
  await withReloader({ probe: "worker" }, async ({ dir, path, reloader, applied }) => {
    const lib = await importLib(dir, path, reloader);
    const a = join(dir, "a.ts");
    assert.equal(reloader.uncheckedHandler(a), null);
    await Deno.writeTextFile(
      lib,
      'throw new Error("double.ts is broken");\nexport const double = (n: number) => n;\n',
    );
    assert.match(String(reloader.uncheckedHandler(a)), /a\.ts was edited after it was checked/);
    const refused = await reloader.reload("file");
    assert.equal(refused.ok, false, "the broken module is checked through its handler");
    assert.match(refused.errors[0]!.message, /double\.ts is broken/);
    await Deno.writeTextFile(lib, "export const double = (n: number) => n + n;\n");
    const result = await reloader.reload("file");
    assert.equal(result.ok, true, JSON.stringify(result.errors));
    assert.deepEqual(result.restarted, ["a"], "a module a imports changed: a restarts, b does not");
    assert.equal(reloader.uncheckedHandler(a), null);
    assert.equal(applied.length, 2);
  });
});

Deno.test("Reloader.watch() follows the modules a handler imports, in their own directories, as the imports change", async () => {
  await withReloader({}, async ({ dir, path, reloader, applied }) => {
    reloader.watch();
    // a.ts starts importing lib/double.ts while watched: lib/ is watched from then on.
    const lib = await importLib(dir, path, reloader);
    await new Promise((r) => setTimeout(r, 600)); // the watch's own look at those saves
    const before = applied.length;
    await Deno.writeTextFile(lib, "export const double = (n: number) => n * 2;\n");
    assert.ok(await until(() => applied.length > before), "the edit of lib/double.ts was reloaded");
    assert.deepEqual(applied.at(-1)!.restarted, [{ name: "a", reasons: ["handler"] }]);
  });
});

Deno.test("Reloader.reload() does not start watching when watch() was never asked for", async () => {
  await withReloader({}, async ({ dir, path, reloader, applied }) => {
    await Deno.writeTextFile(path, yaml(consumer("a"), consumer("b"), consumer("c")));
    assert.equal((await reloader.reload("SIGHUP")).applied, true);
    await Deno.writeTextFile(join(dir, "a.ts"), `// edited\n${HANDLER}`);
    assert.equal(await until(() => applied.length > 1, 1000), false, "the edit was not reloaded");
  });
});

Deno.test("Reloader.watch() keeps watching a config directory that is replaced (rm -rf dir && mkdir dir), and logs it", async () => {
  await withReloader({}, async ({ dir, path, reloader, applied, lines }) => {
    reloader.watch();
    await new Promise((r) => setTimeout(r, 200));
    await Deno.remove(dir, { recursive: true });
    await Deno.mkdir(dir);
    for (const name of ["a", "b", "c"]) await Deno.writeTextFile(join(dir, `${name}.ts`), HANDLER);
    await Deno.writeTextFile(path, yaml(consumer("a"), consumer("b"), consumer("c")));
    const logged = () => lines.map((l) => JSON.parse(l));
    const rearmed = () => logged().some((r) => r.msg === "config watch re-armed" && r.dir === dir);
    const deadline = Date.now() + 10_000;
    while ((applied.length === 0 || !rearmed()) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.equal(applied.length, 1, "the new file in the new directory was reloaded");
    assert.deepEqual(applied[0]!.added, ["c"]);

    // Watched again: a later edit in the new directory is seen too.
    await Deno.writeTextFile(path, yaml(consumer("a"), consumer("c")));
    while (applied.length === 1 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.deepEqual(applied[1]?.removed, ["b"], "an edit after the replacement is reloaded");
    const lost = logged().find((r) => r.msg.startsWith("config watch lost"));
    assert.equal(lost?.dir, dir);
    assert.equal(lost?.level, "warn");
    assert.ok(rearmed(), "the watch was re-armed");
  });
});

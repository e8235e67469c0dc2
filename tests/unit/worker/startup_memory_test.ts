import assert from "node:assert/strict";
import { join } from "node:path";
import { EXPOSE_GC_FLAG } from "../../../src/runtime/deno.ts";
import { takeCollect } from "../../../src/runtime/collect.ts";
import { releaseStartupMemory } from "../../../src/worker/startup_memory.ts";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Runs a script on Deno with the daemon's V8 flag; returns the JSON it printed. */
async function runWithGcFlag(main: string): Promise<unknown> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", EXPOSE_GC_FLAG, main],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  return JSON.parse(new TextDecoder().decode(out.stdout));
}

Deno.test("takeCollect: V8's exposed gc is taken off the global, Bun's gc is used as it is", () => {
  const calls: unknown[] = [];
  const global: Record<string, unknown> = {};
  // As V8 installs it: writable, not configurable.
  Object.defineProperty(global, "gc", {
    value: (options: unknown) => void calls.push(options),
    writable: true,
    enumerable: true,
    configurable: false,
  });
  const collect = takeCollect(global);
  assert.equal(global.gc, undefined, "handlers cannot call it");
  collect!();
  assert.deepEqual([...calls], [{ type: "major", execution: "sync", flavor: "last-resort" }]);

  const deletable: Record<string, unknown> = { gc: () => void calls.push("deleted one") };
  takeCollect(deletable)!();
  assert.equal("gc" in deletable, false);
  assert.equal(calls.at(-1), "deleted one");

  const forced: boolean[] = [];
  const bun = { Bun: { gc: (force: boolean) => forced.push(force) }, gc: () => {} };
  takeCollect(bun)!();
  assert.deepEqual(forced, [true]);
  assert.equal(typeof bun.gc, "function", "Bun's global is left alone");

  assert.equal(takeCollect({}), null, "nothing without the flag");
  assert.equal(takeCollect({ gc: 1 }), null);
});

Deno.test("releaseStartupMemory: collects once, when the handler has stood still for an interval", async () => {
  let progress = 0;
  let collected = 0;
  const cancel = releaseStartupMemory(() => progress, {
    collect: () => collected++,
    intervalMs: 20,
  });
  try {
    // Busy: messages keep being handled, then a call runs.
    for (let i = 0; i < 4; i++) {
      progress += 10;
      await sleep(20);
    }
    progress = -1;
    await sleep(60);
    assert.equal(collected, 0, "not while messages are handled or a call runs");
    progress = 40;
    await sleep(120);
    assert.equal(collected, 1, "once idle, once only");
  } finally {
    cancel();
  }
});

Deno.test("releaseStartupMemory: a collection that throws does not escape into the worker", async () => {
  let calls = 0;
  releaseStartupMemory(() => 0, {
    collect: () => {
      calls++;
      throw new TypeError("gc options refused");
    },
    intervalMs: 10,
  });
  await sleep(60);
  assert.equal(calls, 1, "tried once, and the error went no further");
});

Deno.test("releaseStartupMemory: gives up on a worker that stays busy, and cancels", async () => {
  let progress = 0;
  let collected = 0;
  releaseStartupMemory(() => progress++, { collect: () => collected++, intervalMs: 10, checks: 3 });
  await sleep(100);
  assert.equal(collected, 0);
  const before = progress;
  await sleep(50);
  assert.equal(progress, before, "no more checks after the last one");

  const cancel = releaseStartupMemory(() => 0, { collect: () => void collected++, intervalMs: 20 });
  cancel();
  await sleep(60);
  assert.equal(collected, 0);
  assert.equal(releaseStartupMemory(() => 0, { collect: null })(), undefined, "nothing to cancel");
});

Deno.test("releaseStartupMemory: on this Deno, with the daemon's V8 flag, a worker's grown heap shrinks", async () => {
  const dir = await Deno.makeTempDir({ prefix: "consumerd-startup-memory-" });
  try {
    const module = new URL("../../../src/worker/startup_memory.ts", import.meta.url).href;
    const collectModule = new URL("../../../src/runtime/collect.ts", import.meta.url).href;
    const worker = join(dir, "worker.ts");
    // A worker that allocates as a start does (much of it short-lived), then waits.
    await Deno.writeTextFile(
      worker,
      `import { releaseStartupMemory } from ${JSON.stringify(module)};
import { takeCollect } from ${JSON.stringify(collectModule)};
const collect = takeCollect(globalThis);
let kept = [];
for (let i = 0; i < 300_000; i++) {
  const o = { i, s: "x" + i, a: [i, i + 1] };
  if (i % 10 === 0) kept.push(o);
}
kept = kept.slice(0, 1000);
const before = Deno.memoryUsage().heapTotal;
releaseStartupMemory(() => 0, { collect, intervalMs: 50 });
setTimeout(() => {
  self.postMessage({ gc: typeof globalThis.gc, before, after: Deno.memoryUsage().heapTotal, kept: kept.length });
}, 300);
`,
    );
    const main = join(dir, "main.ts");
    await Deno.writeTextFile(
      main,
      `const w = new Worker(${
        JSON.stringify(new URL(`file://${worker}`).href)
      }, { type: "module" });
w.onmessage = (e) => { console.log(JSON.stringify(e.data)); w.terminate(); };
`,
    );
    const result = await runWithGcFlag(main) as { gc: string; before: number; after: number };
    assert.equal(result.gc, "undefined", "the worker's code cannot call gc");
    assert.ok(
      result.after < result.before * 0.8,
      `heap ${result.before} → ${result.after} bytes: not shrunk`,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("with the daemon's V8 flag, code loaded after a worker entry (as a handler is) finds no gc", async () => {
  const dir = await Deno.makeTempDir({ prefix: "consumerd-entry-gc-" });
  try {
    const entries = [
      "../../../src/worker/entry.ts",
      "../../../src/supervisor/handler_probe_entry.ts",
    ]
      .map((path) => new URL(path, import.meta.url).href);
    const main = join(dir, "main.ts");
    const workers = entries.map((entry, i) => {
      const path = join(dir, `after_${i}.ts`);
      Deno.writeTextFileSync(
        path,
        `import ${JSON.stringify(entry)};\nself.postMessage(typeof globalThis.gc);\n`,
      );
      return new URL(`file://${path}`).href;
    });
    await Deno.writeTextFile(
      main,
      `const seen = [];
for (const url of ${JSON.stringify(workers)}) {
  const w = new Worker(url, { type: "module" });
  seen.push(await new Promise((resolve) => (w.onmessage = (e) => resolve(e.data))));
  w.terminate();
}
const own = new Worker(URL.createObjectURL(new Blob(["self.postMessage(typeof globalThis.gc)"])), { type: "module" });
seen.push(await new Promise((resolve) => (own.onmessage = (e) => resolve(e.data))));
own.terminate();
console.log(JSON.stringify(seen));
`,
    );
    assert.deepEqual(await runWithGcFlag(main), [
      "undefined",
      "undefined",
      // A worker of no entry of ours (as one a handler spawns) has V8's: the flag is real.
      "function",
    ]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

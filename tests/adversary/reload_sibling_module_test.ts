/**
 * Adversary (issue 20, the checked-handler gate): the gate fingerprints the
 * handler file alone. A module the handler imports (./lib.ts beside it) can
 * be edited into something broken; the watch sees the edit but the reload
 * key (config text + handler fingerprints) does not change, so no reload
 * checks it, and `uncheckedHandler()` lets the next worker (a restart after
 * any crash, a reconnect, a scale-up) start on the unchecked code.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { loadConfigFile } from "../../src/config/load.ts";
import type { Config } from "../../src/config/types.ts";
import { createLogger } from "../../src/log.ts";
import { runtime } from "../../src/runtime/mod.ts";
import { Reloader } from "../../src/supervisor/reload.ts";

Deno.test("adversary: Reloader.uncheckedHandler() holds a handler whose imported module was edited after the check", async () => {
  const dir = await Deno.makeTempDir();
  const path = join(dir, "consumers.yaml");
  const a = join(dir, "a.ts");
  const lib = join(dir, "lib.ts");
  await Deno.writeTextFile(lib, "export const double = (n: number) => 2 * n;\n");
  await Deno.writeTextFile(
    a,
    'import { double } from "./lib.ts";\nexport default function handle() { double(1); }\n',
  );
  await Deno.writeTextFile(
    path,
    "kafka:\n  brokers: k:9092\nconsumers:\n  - { name: a, group: g, topic: t, handler: ./a.ts, permissions: { read: [" +
      JSON.stringify(dir) + "] } }\n",
  );
  let running: Config = await loadConfigFile(path);
  let applied = 0;
  const reloader = new Reloader(running, {
    runtime,
    logger: createLogger({ write: () => {} }),
    current: () => running,
    apply: (next) => {
      applied++;
      running = next;
      return Promise.resolve();
    },
  });
  await reloader.init();
  try {
    reloader.watch();
    await new Promise((r) => setTimeout(r, 300));
    await Deno.writeTextFile(lib, 'throw new Error("lib.ts is broken");\n');
    // The watch sees the directory change; give the debounced reload time to run.
    await new Promise((r) => setTimeout(r, 3000));
    const last = reloader.state().lastReload;
    assert.ok(
      last?.ok === false || reloader.uncheckedHandler(a) !== null,
      `a broken lib.ts is neither refused by a reload nor held (last reload: ${
        JSON.stringify(last)
      }, ` +
        `uncheckedHandler: ${reloader.uncheckedHandler(a)}, applied: ${applied})`,
    );
  } finally {
    reloader.close();
    await Deno.remove(dir, { recursive: true });
  }
});

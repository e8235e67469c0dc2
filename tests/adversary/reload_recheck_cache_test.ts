/**
 * Adversary (issue 20, the checked-handler gate): `Reloader.#loadChecked()`
 * makes one `workerProbe()` before its attempts, and that probe caches each
 * result by path, deadline and permissions. When a handler is saved during
 * its check, the second attempt "checks it again" through the same probe:
 * the cached answer for the first version comes back, and the new bytes are
 * recorded as checked without ever being imported. A broken save made while
 * a slow (valid) version is being imported is then started by the workers
 * as "the checked version".
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { loadConfigFile } from "../../src/config/load.ts";
import type { Config } from "../../src/config/types.ts";
import { createLogger } from "../../src/log.ts";
import { runtime } from "../../src/runtime/mod.ts";
import { Reloader } from "../../src/supervisor/reload.ts";

const HANDLER = "export default function handle() {}\n";
const yaml = (...consumers: string[]) =>
  ["kafka:", "  brokers: k:9092", "consumers:", ...consumers].join("\n") + "\n";
const consumer = (name: string, extra = "") =>
  `  - { name: ${name}, group: g-${name}, topic: t, handler: ./${name}.ts${extra} }`;

Deno.test("adversary: Reloader.reload() never records as checked a handler version no probe imported (a save during a slow import)", async () => {
  const dir = await Deno.makeTempDir();
  const path = join(dir, "consumers.yaml");
  const b = join(dir, "b.ts");
  await Deno.writeTextFile(join(dir, "a.ts"), HANDLER);
  await Deno.writeTextFile(b, HANDLER);
  await Deno.writeTextFile(path, yaml(consumer("a"), consumer("b")));
  let running: Config = await loadConfigFile(path);
  const reloader = new Reloader(running, {
    runtime,
    logger: createLogger({ write: () => {} }),
    current: () => running,
    apply: (next) => {
      running = next;
      return Promise.resolve();
    },
  });
  await reloader.init();
  try {
    // v2: valid; its top level says it runs (the probe has read it), then takes 2 s.
    const marker = join(dir, "importing");
    await Deno.writeTextFile(
      path,
      yaml(consumer("a"), consumer("b", `, permissions: { write: ["${dir}"] }`)),
    );
    await Deno.writeTextFile(
      b,
      `Deno.writeTextFileSync(${JSON.stringify(marker)}, "v2");\n` +
        `await new Promise((r) => setTimeout(r, 2000));\n${HANDLER}`,
    );
    const reload = reloader.reload("file");
    for (let i = 0; i < 400; i++) {
      if (await Deno.stat(marker).then(() => true, () => false)) break;
      await new Promise((r) => setTimeout(r, 25));
    }
    // v3, saved while v2 is being imported: broken.
    await Deno.writeTextFile(b, 'throw new Error("v3 is broken");\n');
    const result = await reload;
    const unchecked = reloader.uncheckedHandler(b);
    assert.ok(
      !result.ok || unchecked !== null,
      `the broken v3 is accepted as checked (reload ok: ${result.ok}, uncheckedHandler: ${unchecked})`,
    );
  } finally {
    reloader.close();
    await Deno.remove(dir, { recursive: true });
  }
});

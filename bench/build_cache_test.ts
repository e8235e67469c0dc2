import assert from "node:assert/strict";
import { join } from "node:path";
import { cachedBuild } from "./build_cache.ts";
import { ROOT } from "./runtimes.ts";

async function entries(prefix: string): Promise<string[]> {
  const names: string[] = [];
  for await (const e of Deno.readDir(join(ROOT, ".cache", "bench"))) {
    if (e.name.startsWith(prefix)) names.push(e.name);
  }
  return names;
}

Deno.test("cachedBuild() builds once and then returns the cached directory", async () => {
  const name = `test-${crypto.randomUUID().slice(0, 8)}`;
  let builds = 0;
  const spec = {
    name,
    sources: ["bench/build_cache.ts"],
    toolVersion: [Deno.execPath(), "--version"] as [string, ...string[]],
    build: async (dir: string) => {
      builds++;
      await Deno.writeTextFile(join(dir, "out"), "built");
    },
  };
  try {
    const first = await cachedBuild(spec);
    const second = await cachedBuild(spec);
    assert.equal(second, first);
    assert.equal(builds, 1);
    assert.equal(await Deno.readTextFile(join(first, "out")), "built");
  } finally {
    for (const entry of await entries(name)) {
      await Deno.remove(join(ROOT, ".cache", "bench", entry), { recursive: true });
    }
  }
});

Deno.test("cachedBuild() names the build that failed and leaves nothing behind", async () => {
  const name = `test-${crypto.randomUUID().slice(0, 8)}`;
  await assert.rejects(
    cachedBuild({
      name,
      sources: ["bench/build_cache.ts"],
      toolVersion: [Deno.execPath(), "--version"],
      build: () => Promise.reject(new Error("compiler said no")),
    }),
    (e: Error) => e.message === `Cannot build ${name}: compiler said no`,
  );
  assert.deepEqual(await entries(name), []);
});

/**
 * What the daemon's own isolate loads before its first worker starts: the
 * modules `src/main.ts` imports statically. Every one of them is on the
 * critical path of a start; the client libraries are loaded only by workers
 * (and by the supervisor's eviction of a dead member, on demand).
 */
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";

interface InfoModule {
  specifier: string;
  dependencies?: Array<{ code?: { specifier: string }; isDynamic?: boolean }>;
}

/** The modules reachable from `entry` through static, non-type imports (`deno info --json`). */
async function staticGraph(entry: string): Promise<string[]> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", entry],
    stdout: "piped",
    stderr: "inherit",
  }).output();
  assert.ok(out.success, "deno info failed");
  const info = JSON.parse(new TextDecoder().decode(out.stdout)) as {
    roots: string[];
    modules: InfoModule[];
  };
  const bySpecifier = new Map(info.modules.map((m) => [m.specifier, m]));
  const seen = new Set<string>();
  const queue = [...info.roots];
  while (queue.length > 0) {
    const specifier = queue.pop()!;
    if (seen.has(specifier)) continue;
    seen.add(specifier);
    for (const dependency of bySpecifier.get(specifier)?.dependencies ?? []) {
      if (dependency.code && !dependency.isDynamic) queue.push(dependency.code.specifier);
    }
  }
  return [...seen];
}

Deno.test("the daemon's isolate loads no Kafka client and yaml's ES modules only", async () => {
  const graph = await staticGraph(fileURLToPath(new URL("../../../src/main.ts", import.meta.url)));
  const packages = graph.filter((s) => s.includes("/node_modules/"));
  assert.ok(graph.some((s) => s.endsWith("/src/supervisor/supervisor.ts")), "walked the graph");
  assert.deepEqual(
    packages.filter((s) => /\/node_modules\/(kafkajs|@platformatic\/kafka|ajv)\//.test(s)),
    [],
  );
  // The yaml package's CommonJS build (what Deno's `node` condition picks) costs ~65 ms more.
  assert.deepEqual(packages.filter((s) => s.includes("/node_modules/yaml/dist/")), []);
  assert.ok(packages.some((s) => s.includes("/node_modules/yaml/browser/")), "yaml's ES modules");
});

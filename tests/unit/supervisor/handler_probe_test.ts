import assert from "node:assert/strict";
import { join } from "node:path";
import type { HandlerCheck } from "../../../src/config/load.ts";
import { parseConfig } from "../../../src/config/parse.ts";
import { runtime } from "../../../src/runtime/mod.ts";
import type { Runtime } from "../../../src/runtime/types.ts";
import { workerProbe } from "../../../src/supervisor/handler_probe.ts";

const QUIET = "export default function handle() {}\n";

/** A temporary directory with these files, and the checks of a config's consumers over it. */
async function setup(files: Record<string, string>) {
  const dir = await Deno.makeTempDir({ prefix: "consumerd-probe-" });
  for (const [name, text] of Object.entries(files)) await Deno.writeTextFile(join(dir, name), text);
  const checks = (...consumers: string[]): HandlerCheck[] => {
    const config = parseConfig(
      ["kafka: { brokers: 'k:9092' }", "consumers:", ...consumers].join("\n"),
      { file: join(dir, "consumers.yaml") },
    );
    return config.consumers.map((consumer) => ({
      path: consumer.handler,
      timeoutMs: consumer.startupTimeoutMs,
      timeoutName: "startupTimeoutMs",
      consumer,
      kafka: config.kafka,
    }));
  };
  return { dir, checks };
}

/** The runtime, counting the workers it spawns. */
function counting(): { runtime: Runtime; spawned: () => number } {
  let spawned = 0;
  return {
    runtime: {
      ...runtime,
      spawnWorker: (url, options) => {
        spawned++;
        return runtime.spawnWorker(url, options);
      },
    },
    spawned: () => spawned,
  };
}

Deno.test("workerProbe() imports a handler with its worker's read permissions: a module beside it needs permissions.read, as in the worker", async () => {
  const { dir, checks } = await setup({
    "handler.ts": 'import { x } from "./lib.ts";\nexport default function handle() { return x; }\n',
    "lib.ts": "export const x = 1;\n",
  });
  try {
    const probe = workerProbe(runtime);
    const [plain] = checks("  - { name: a, group: g, topic: t, handler: ./handler.ts }");
    const problem = await probe(plain!);
    assert.match(String(problem), /Requires read access to "[^"]*lib\.ts"/);
    const [granted] = checks(
      "  - { name: a, group: g, topic: t, handler: ./handler.ts, permissions: { read: [./lib.ts] } }",
    );
    assert.equal(await probe(granted!), undefined);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("workerProbe() runs one probe for consumers with the same handler and permissions", async () => {
  const { dir, checks } = await setup({ "a.ts": QUIET });
  try {
    const { runtime, spawned } = counting();
    const probe = workerProbe(runtime);
    const all = checks(
      "  - { name: a, group: g1, topic: t, handler: ./a.ts }",
      "  - { name: b, group: g2, topic: t, handler: ./a.ts }",
      "  - { name: c, group: g3, topic: t, handler: ./a.ts, permissions: { env: [C_TOKEN] } }",
    );
    assert.deepEqual(await Promise.all(all.map(probe)), [undefined, undefined, undefined]);
    assert.equal(spawned(), 2, "a and b share a probe; c's worker may read more");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("workerProbe() only looks a handler up when its consumer's permissions are not known: its code does not run", async () => {
  const { dir, checks } = await setup({ "throws.ts": 'throw new Error("ran");\n' });
  try {
    const { runtime, spawned } = counting();
    const probe = workerProbe(runtime);
    const [check] = checks("  - { name: a, group: g, topic: t, handler: ./throws.ts }");
    assert.equal(await probe({ ...check!, consumer: undefined }), undefined);
    assert.equal(await probe({ ...check!, kafka: undefined }), undefined);
    assert.match(
      String(await probe({ ...check!, path: join(dir, "nope.ts"), consumer: undefined })),
      /handler file not found/,
    );
    assert.equal(spawned(), 0);
    assert.match(String(await probe(check!)), /failed to load: Error: ran/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { bundleWorker } from "../../../scripts/build.ts";
import { editedModule, editLibraryModule, LIBRARY_EDITS } from "../../../scripts/worker_library.ts";

const ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const LIBRARY_DIST = join(ROOT, "node_modules", "@platformatic", "kafka", "dist");

Deno.test("editedModule names the library's modules to edit by their path inside dist/", () => {
  const dist = "/srv/app/node_modules/@platformatic/kafka/dist/";
  assert.equal(editedModule(`${dist}index.js`), "index.js");
  assert.equal(editedModule(`${dist}clients/index.js`), "clients/index.js");
  assert.equal(
    editedModule("C:\\app\\node_modules\\@platformatic\\kafka\\dist\\apis\\index.js"),
    "apis/index.js",
  );
  assert.equal(editedModule(`${dist}clients/consumer/index.js`), null);
  assert.equal(editedModule("/srv/app/node_modules/other/dist/index.js"), null);
});

Deno.test("editLibraryModule drops the re-exports a worker never uses, and refuses text it does not find once", () => {
  const apis = [
    "// Low-level APIs",
    'export * from "./admin/index.js";',
    'export * from "./consumer/index.js";',
    'export * from "./telemetry/index.js";',
    "",
  ].join("\n");
  assert.equal(
    editLibraryModule("apis/index.js", apis),
    '// Low-level APIs\nexport * from "./consumer/index.js";\n',
  );
  assert.throws(
    () => editLibraryModule("apis/index.js", apis.replace("telemetry", "metrics")),
    /dist\/apis\/index\.js does not contain "export \* from \\".\/telemetry\/index\.js\\";\\n" exactly once/,
  );
  const twice = 'export * from "./registries/index.js";\n'.repeat(2);
  assert.throws(() => editLibraryModule("index.js", twice), /exactly once/);
  assert.throws(
    () => editLibraryModule("errors.js", ""),
    /no edits for @platformatic\/kafka's errors\.js/,
  );
  assert.equal(
    editLibraryModule(
      "protocol/murmur2.js",
      "import { LRUCache } from 'mnemonist';\nnew LRUCache(1);\n",
    ),
    "import LRUCache from 'mnemonist/lru-cache.js';\nnew LRUCache(1);\n",
  );
});

Deno.test("every edit applies to the installed @platformatic/kafka", async () => {
  for (const module of Object.keys(LIBRARY_EDITS)) {
    const source = await Deno.readTextFile(join(LIBRARY_DIST, module));
    const edited = editLibraryModule(module, source);
    assert.ok(edited.length < source.length || module === "protocol/murmur2.js", module);
  }
});

Deno.test("the worker bundle holds the library's consumer and producer, not its admin client, admin or telemetry APIs, schema registries or all of mnemonist", async () => {
  const dir = await Deno.makeTempDir({ prefix: "consumerd-bundle-" });
  try {
    const metafile = join(dir, "meta.json");
    await bundleWorker(ROOT, join(dir, "out"), metafile);
    const inputs = Object.keys(
      (JSON.parse(await Deno.readTextFile(metafile)) as { inputs: Record<string, unknown> })
        .inputs,
    );
    const bundled = (part: string) => inputs.some((path) => path.includes(part));
    for (
      const kept of [
        "@platformatic/kafka/dist/clients/consumer/consumer.js",
        "@platformatic/kafka/dist/clients/producer/producer.js",
        "@platformatic/kafka/dist/apis/consumer/fetch-v17.js",
        "@platformatic/kafka/dist/apis/producer/txn-offset-commit-v4.js",
        "@platformatic/kafka/dist/apis/metadata/find-coordinator-v6.js",
        "@platformatic/kafka/dist/apis/security/sasl-authenticate-v2.js",
        "mnemonist/lru-cache.js",
      ]
    ) assert.ok(bundled(kept), `bundled: ${kept}`);
    for (
      const left of [
        "@platformatic/kafka/dist/clients/admin/",
        "@platformatic/kafka/dist/apis/admin/",
        "@platformatic/kafka/dist/apis/telemetry/",
        "@platformatic/kafka/dist/registries/confluent-schema-registry.js",
        "node_modules/avsc/",
        "mnemonist/index.mjs",
        "mnemonist/fibonacci-heap.js",
      ]
    ) assert.ok(!bundled(left), `left out: ${left}`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

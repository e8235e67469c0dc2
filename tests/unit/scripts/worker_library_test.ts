import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { bundleWorker } from "../../../scripts/build.ts";
import {
  EDITED_MODULE,
  editedModule,
  editLibraryModule,
  LIBRARY_EDITS,
  LIBRARY_MODULE,
} from "../../../scripts/worker_library.ts";

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
  // The bundler's filter picks the same modules; its inputs are named relative to the package.
  assert.ok(EDITED_MODULE.test(`${dist}protocol/murmur2.js`));
  assert.ok(!EDITED_MODULE.test(`${dist}apis/admin/index.js`));
  assert.ok(!EDITED_MODULE.test(`${dist}protocol/murmur2xjs`));
  assert.ok(LIBRARY_MODULE.test("node_modules/@platformatic/kafka/dist/errors.js"));
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
  assert.equal(
    editLibraryModule(
      "utils.js",
      "import { Ajv2020 } from 'ajv/dist/2020.js';\nexport const ajv = new Ajv2020({ strict: true });\n",
    ),
    "import { libraryAjv } from 'consumerd-src:kafka/platformatic/lazy_ajv.ts';\nexport const ajv = libraryAjv({ strict: true });\n",
  );
  assert.throws(
    () =>
      editLibraryModule(
        "utils.js",
        "import { Ajv2020 } from 'ajv/dist/2020.js';\nexport const ajv = new Ajv2020({});\nconst other = new Ajv2020({});\n",
      ),
    /dist\/utils\.js still has \\bAjv2020\\b after its edits/,
    "a second instance would be an undefined name in the bundle",
  );
});

Deno.test("every edit applies to the installed @platformatic/kafka", async () => {
  for (const module of Object.keys(LIBRARY_EDITS)) {
    const source = await Deno.readTextFile(join(LIBRARY_DIST, module));
    const edited = editLibraryModule(module, source);
    assert.notEqual(edited, source, module);
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
        // Bundled, in a chunk of its own that a worker loads on demand (lazy_validators_test.ts).
        "ajv/dist/2020.js",
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

/** Every API the library has a module of, by the name its clients look it up under, and its folder. */
async function libraryApis(): Promise<Map<string, string>> {
  const apis = new Map<string, string>();
  for await (const folder of Deno.readDir(join(LIBRARY_DIST, "apis"))) {
    if (!folder.isDirectory) continue;
    for await (const file of Deno.readDir(join(LIBRARY_DIST, "apis", folder.name))) {
      const match = /^([a-z-]+)-v\d+\.js$/.exec(file.name);
      if (match === null) continue;
      const name = match[1]!.split("-").map((w) => w[0]!.toUpperCase() + w.slice(1)).join("");
      apis.set(name, folder.name);
    }
  }
  return apis;
}

/** The .js or .ts files under `dir`, recursively. */
function* sourceFiles(dir: string): Generator<string> {
  for (const entry of Deno.readDirSync(dir)) {
    const path = join(dir, entry.name);
    if (entry.isDirectory) yield* sourceFiles(path);
    else if (/\.(js|ts)$/.test(entry.name) && !entry.name.endsWith(".d.ts")) yield path;
  }
}

Deno.test("no API a worker's code names (the library's clients, network and protocol code, and the engine) is one the bundle leaves out", async () => {
  const apis = await libraryApis();
  assert.equal(apis.get("TxnOffsetCommit"), "producer");
  assert.equal(apis.get("DescribeGroups"), "admin");
  const left = new Set(["admin", "telemetry"]);
  const files = [
    ...["clients/base", "clients/consumer", "clients/producer", "network", "protocol"]
      .flatMap((dir) => [...sourceFiles(join(LIBRARY_DIST, dir))])
      // The table of every API's name by its key, for the connection's diagnostics.
      .filter((path) => !path.endsWith(join("protocol", "apis.js"))),
    // The supervisor's eviction runs from the package, whole.
    ...[...sourceFiles(join(ROOT, "src", "kafka", "platformatic"))]
      .filter((path) => !path.endsWith("evict.ts")),
  ];
  const named = new Set<string>();
  for (const path of files) {
    for (
      const [, name] of (await Deno.readTextFile(path)).matchAll(/["'`]([A-Z][A-Za-z]+)["'`]/g)
    ) {
      const folder = apis.get(name!);
      if (folder === undefined) continue;
      named.add(name!);
      assert.ok(!left.has(folder), `${path} names ${name}, an API of apis/${folder}/`);
    }
  }
  for (
    const name of [
      "Fetch",
      "JoinGroup",
      "OffsetCommit",
      "TxnOffsetCommit",
      "ConsumerGroupHeartbeat",
    ]
  ) {
    assert.ok(named.has(name), `found ${name}`);
  }
});

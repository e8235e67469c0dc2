import assert from "node:assert/strict";
import { join } from "node:path";
import {
  BUNDLE_DIR,
  chooseWorkerEntry,
  fileDigest,
  MANIFEST_FILE,
  parseManifest,
  staleInput,
} from "../../../src/supervisor/worker_bundle.ts";

const SOURCE = new URL("file:///app/src/worker/entry.ts");

Deno.test("staleInput: null when every input matches, else the first that differs or is gone", () => {
  const manifest = { entry: "entry.js", inputs: { "a.ts": "1", "b.ts": "2" } };
  assert.equal(staleInput(manifest, (p) => ({ "a.ts": "1", "b.ts": "2" })[p]!), null);
  assert.equal(staleInput(manifest, (p) => ({ "a.ts": "1", "b.ts": "3" })[p]!), "b.ts");
  assert.equal(
    staleInput(manifest, (p) => {
      if (p === "a.ts") throw new Error("ENOENT");
      return "2";
    }),
    "a.ts",
  );
});

Deno.test("parseManifest refuses a manifest without an entry or without inputs", () => {
  assert.deepEqual(parseManifest('{"entry":"entry.js","inputs":{"a":"1"}}'), {
    entry: "entry.js",
    inputs: { a: "1" },
  });
  assert.throws(() => parseManifest('{"inputs":{"a":"1"}}'), TypeError);
  assert.throws(() => parseManifest('{"entry":"entry.js","inputs":{}}'), TypeError);
  assert.throws(() => parseManifest('{"entry":"entry.js","inputs":{"a":1}}'), TypeError);
  assert.throws(() => parseManifest("not json"), SyntaxError);
});

Deno.test("chooseWorkerEntry: the bundle only while it matches the files it was built from", async () => {
  const dir = await Deno.makeTempDir({ prefix: "consumerd-bundle-" });
  try {
    assert.deepEqual(chooseWorkerEntry(dir, SOURCE), {
      kind: "source",
      url: SOURCE,
      reason: "no worker bundle (deno task build makes one)",
    });
    await Deno.mkdir(join(dir, "src"));
    await Deno.writeTextFile(join(dir, "src", "loop.ts"), "export const a = 1;\n");
    await Deno.mkdir(join(dir, BUNDLE_DIR), { recursive: true });
    const manifest = {
      entry: "entry.js",
      inputs: { "src/loop.ts": fileDigest(join(dir, "src", "loop.ts")) },
    };
    await Deno.writeTextFile(join(dir, BUNDLE_DIR, MANIFEST_FILE), JSON.stringify(manifest));
    const fresh = chooseWorkerEntry(dir, SOURCE);
    assert.equal(fresh.kind, "bundle");
    assert.equal(fresh.url.pathname, join(dir, BUNDLE_DIR, "entry.js"));

    await Deno.writeTextFile(join(dir, "src", "loop.ts"), "export const a = 2;\n");
    const edited = chooseWorkerEntry(dir, SOURCE);
    assert.equal(edited.kind, "source");
    assert.match(edited.kind === "source" ? edited.reason : "", /older than src\/loop\.ts/);

    await Deno.writeTextFile(join(dir, BUNDLE_DIR, MANIFEST_FILE), "{");
    const broken = chooseWorkerEntry(dir, SOURCE);
    assert.equal(broken.kind, "source");
    assert.match(
      broken.kind === "source" ? broken.reason : "",
      /unreadable dist\/worker\/manifest\.json/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

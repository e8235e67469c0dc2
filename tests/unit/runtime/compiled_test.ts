import assert from "node:assert/strict";
import { embeddedWorkerEntry, isEmbedded } from "../../../src/runtime/compiled.ts";

const BINARY = "file:///$bunfs/root/consumerd";

Deno.test("embeddedWorkerEntry() maps the supervisor's entry URL into the executable", () => {
  // Inside the binary the supervisor's `new URL("../worker/entry.ts", import.meta.url)` is this:
  const entry = new URL("../worker/entry.ts", BINARY);
  assert.equal(embeddedWorkerEntry(entry, BINARY), "file:///$bunfs/root/worker/entry.js");
});

Deno.test("embeddedWorkerEntry() leaves source URLs alone outside an executable", () => {
  const entry = new URL("file:///app/src/worker/entry.ts");
  assert.equal(embeddedWorkerEntry(entry, "file:///app/src/runtime/bun.ts"), entry.href);
});

Deno.test("embeddedWorkerEntry() resolves against the executable's embedded root on Windows", () => {
  const binary = "file:///B:/~BUN/root/consumerd.exe";
  assert.equal(
    embeddedWorkerEntry(new URL("../worker/entry.ts", binary), binary),
    "file:///B:/~BUN/root/worker/entry.js",
  );
});

Deno.test("isEmbedded() recognises Bun's embedded file system only", () => {
  assert.equal(isEmbedded(BINARY), true);
  assert.equal(isEmbedded("file:///home/u/%24bunfs-notes/x.ts"), false);
  assert.equal(isEmbedded("file:///work/src/runtime/bun.ts"), false);
});

import assert from "node:assert/strict";
import { changesAnything, diffConfigs } from "../../../src/supervisor/config_diff.ts";
import type { ConfigSnapshot, ConsumerSnapshot } from "../../../src/supervisor/fingerprint.ts";

const consumer = (name: string, over: Partial<ConsumerSnapshot> = {}): ConsumerSnapshot => ({
  name,
  definition: `def-${name}`,
  handler: `h-${name}`,
  replicas: 1,
  ...over,
});
const snapshot = (consumers: ConsumerSnapshot[], over: Partial<ConfigSnapshot> = {}) => ({
  kafka: "k1",
  http: "h1",
  consumers,
  ...over,
});

Deno.test("diffConfigs() finds nothing to do between equal snapshots", () => {
  const s = snapshot([consumer("a"), consumer("b")]);
  const diff = diffConfigs(s, structuredClone(s));
  assert.deepEqual(diff, {
    kafkaChanged: false,
    httpChanged: false,
    added: [],
    removed: [],
    restarted: [],
    scaled: [],
    unchanged: ["a", "b"],
  });
  assert.equal(changesAnything(diff), false);
});

Deno.test("diffConfigs() adds, removes, restarts, scales and leaves alone per consumer", () => {
  const diff = diffConfigs(
    snapshot([consumer("keep"), consumer("gone"), consumer("edit"), consumer("code")]),
    snapshot([
      consumer("new"),
      consumer("keep"),
      consumer("edit", { definition: "other" }),
      consumer("code", { handler: "edited" }),
    ]),
  );
  assert.deepEqual(diff.added, ["new"]);
  assert.deepEqual(diff.removed, ["gone"]);
  assert.deepEqual(diff.restarted, [
    { name: "edit", reasons: ["definition"] },
    { name: "code", reasons: ["handler"] },
  ]);
  assert.deepEqual(diff.unchanged, ["keep"]);
  assert.equal(changesAnything(diff), true);
});

Deno.test("diffConfigs() scales a consumer whose replicas alone changed, restarts one that changed more", () => {
  const diff = diffConfigs(
    snapshot([consumer("a"), consumer("b")]),
    snapshot([consumer("a", { replicas: 3 }), consumer("b", { replicas: 2, definition: "x" })]),
  );
  assert.deepEqual(diff.scaled, [{ name: "a", from: 1, to: 3 }]);
  assert.deepEqual(diff.restarted, [{ name: "b", reasons: ["definition"] }]);
});

Deno.test("diffConfigs() restarts every consumer when kafka changed", () => {
  const diff = diffConfigs(
    snapshot([consumer("a"), consumer("b")]),
    snapshot([consumer("a"), consumer("b", { handler: "edited" })], { kafka: "k2" }),
  );
  assert.equal(diff.kafkaChanged, true);
  assert.deepEqual(diff.restarted, [
    { name: "a", reasons: ["kafka"] },
    { name: "b", reasons: ["handler", "kafka"] },
  ]);
  assert.deepEqual(diff.unchanged, []);
});

Deno.test("diffConfigs() reports an http change without touching consumers", () => {
  const diff = diffConfigs(snapshot([consumer("a")]), snapshot([consumer("a")], { http: "h2" }));
  assert.equal(diff.httpChanged, true);
  assert.deepEqual(diff.unchanged, ["a"]);
  assert.equal(changesAnything(diff), true);
});

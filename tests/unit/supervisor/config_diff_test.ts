import assert from "node:assert/strict";
import { parseConfig } from "../../../src/config/parse.ts";
import { changesAnything, diffConfigs, isReconnect } from "../../../src/supervisor/config_diff.ts";
import {
  type ConfigSnapshot,
  configSnapshot,
  type ConsumerSnapshot,
} from "../../../src/supervisor/fingerprint.ts";

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

Deno.test("isReconnect() is true only for a restart that kafka: alone causes", () => {
  assert.equal(isReconnect({ name: "a", reasons: ["kafka"] }), true);
  assert.equal(isReconnect({ name: "a", reasons: ["definition", "kafka"] }), false);
  assert.equal(isReconnect({ name: "a", reasons: ["handler", "kafka"] }), false);
  assert.equal(isReconnect({ name: "a", reasons: ["handler"] }), false);
});

/** The diff between two config texts, as a reload computes it (handlers not compared). */
const diffTexts = (before: string[], after: string[]) => {
  const parse = (lines: string[]) =>
    configSnapshot(parseConfig(lines.join("\n"), { file: "/srv/consumers.yaml" }), new Map());
  return diffConfigs(parse(before), parse(after));
};
const withDefaults = (kafka: string[], defaults: string[]) => [
  "kafka:",
  "  brokers: k:9092",
  ...kafka,
  "defaults:",
  ...defaults,
  "consumers:",
  "  - { name: inherits, group: g1, topic: t, handler: ./a.ts }",
  "  - { name: overrides, group: g2, topic: t, handler: ./a.ts, retry: { attempts: 9 } }",
];

Deno.test("diffConfigs(): a defaults: change is a change of each consumer whose effective definition it alters", () => {
  const diff = diffTexts(
    withDefaults([], ["  retry: { attempts: 2 }"]),
    withDefaults([], ["  retry: { attempts: 4 }"]),
  );
  assert.deepEqual(diff.restarted, [{ name: "inherits", reasons: ["definition"] }]);
  assert.deepEqual(diff.unchanged, ["overrides"], "a consumer that sets the field is not affected");
});

Deno.test("diffConfigs(): a kafka: change alone reconnects every consumer; with a defaults: change, the affected one starts anew", () => {
  const kafkaOnly = diffTexts(
    withDefaults([], ["  retry: { attempts: 2 }"]),
    withDefaults(["  clientId: rotated"], ["  retry: { attempts: 2 }"]),
  );
  assert.deepEqual(kafkaOnly.restarted.map(isReconnect), [true, true]);
  const both = diffTexts(
    withDefaults([], ["  retry: { attempts: 2 }"]),
    withDefaults(["  clientId: rotated"], ["  retry: { attempts: 4 }"]),
  );
  assert.deepEqual(both.restarted, [
    { name: "inherits", reasons: ["definition", "kafka"] },
    { name: "overrides", reasons: ["kafka"] },
  ]);
  assert.deepEqual(both.restarted.map(isReconnect), [false, true]);
});

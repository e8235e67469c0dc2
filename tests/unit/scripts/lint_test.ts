import assert from "node:assert/strict";
import { readdir } from "node:fs/promises";
import { join } from "node:path";
import plugin from "../../../scripts/lint/plugin.ts";
import { importProblem, layerOf, SRC } from "../../../scripts/lint/layers.ts";

/** The messages of the plugin's reports on `source` as the file `path` (under src/ or not). */
function lint(path: string, source: string): string[] {
  return Deno.lint.runPlugin(plugin, path, source).map((d) => `${d.id}: ${d.message}`);
}

Deno.test("imports-first reports an import below code, naming the line the code starts on", () => {
  const source = [
    "/** A module. */",
    'import { a } from "./a.ts";',
    "",
    "export const b = a + 1;",
    'import { c } from "./c.ts";',
    'export { d } from "./d.ts";',
    "export { c };",
  ].join("\n");
  assert.deepEqual(lint("/elsewhere/x.ts", source), [
    "consumerd/imports-first: import below code (the code starting on line 4)",
    "consumerd/imports-first: import below code (the code starting on line 4)",
  ]);
});

Deno.test("imports-first takes imports and re-exports after comments, and dynamic imports anywhere", () => {
  const source = [
    "// A comment first.",
    'import type { A } from "./a.ts";',
    'export * from "./b.ts";',
    'export type { C } from "./c.ts";',
    'import "./side_effect.ts";',
    "export type { A };",
    'export const later = () => import("./d.ts");',
  ].join("\n");
  assert.deepEqual(lint("/elsewhere/x.ts", source), []);
});

Deno.test("layers reports an import up a layer, a dynamic one too, and takes those down or level", () => {
  const worker = join(SRC, "worker", "x.ts");
  const source = [
    'import type { Slot } from "../supervisor/slots.ts";',
    'import { loadEngine } from "../kafka/engine.ts";',
    'import { handlerProblem } from "../config/handler.ts";',
    'import { sleep } from "./sleep.ts";',
    "export { Slot, loadEngine, handlerProblem, sleep };",
    'export const later = () => import("../http/server.ts");',
  ].join("\n");
  assert.deepEqual(lint(worker, source), [
    "consumerd/layers: the worker layer imports src/supervisor/slots.ts of the supervisor layer above it",
    "consumerd/layers: the worker layer imports src/http/server.ts of the http layer above it",
  ]);
});

Deno.test("layers: kafkajs is imported only in src/kafka/kafkajs/, @platformatic/kafka only in src/kafka/platformatic/", () => {
  assert.equal(importProblem("kafka/kafkajs/client.ts", "kafkajs"), null);
  assert.equal(
    importProblem("kafka/kafkajs/topic_client.ts", "kafkajs/src/consumer/batch.js"),
    null,
  );
  assert.equal(importProblem("kafka/platformatic/client.ts", "@platformatic/kafka"), null);
  assert.equal(
    importProblem("kafka/session.ts", "kafkajs"),
    "kafkajs is imported only in src/kafka/kafkajs/, not in src/kafka/session.ts",
  );
  assert.equal(
    importProblem("kafka/kafkajs/admin.ts", "npm:@platformatic/kafka@2.12.1"),
    "npm:@platformatic/kafka@2.12.1 is imported only in src/kafka/platformatic/, not in src/kafka/kafkajs/admin.ts",
  );
  assert.equal(importProblem("worker/loop.ts", "kafkajs-like"), null);
  // Outside src/ (tests, scripts, bench) anything goes.
  assert.deepEqual(
    lint("/elsewhere/x.ts", 'import { Kafka } from "kafkajs";\nexport { Kafka };'),
    [],
  );
});

Deno.test("layers knows the layer of every file in src/", async () => {
  const files = (await readdir(SRC, { recursive: true })).filter((p) => p.endsWith(".ts"));
  assert.ok(files.includes("supervisor/slots.ts"), "read src/");
  assert.deepEqual(files.filter((path) => layerOf(path) === -1), []);
});

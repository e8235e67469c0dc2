import assert from "node:assert/strict";
import { parseConfig } from "../../../src/config/parse.ts";
import { missingTopicWarnings } from "../../../src/cli/topic_check.ts";

const config = parseConfig(
  [
    "defaults:",
    "  outputs: [audit]",
    "consumers:",
    "  - { name: a, group: g, topic: orders, handler: ./a.ts }",
    "  - name: b",
    "    group: g",
    "    topic: orders",
    "    handler: ./b.ts",
    "    outputs: [orders.enriched, orders.priced]",
  ].join("\n"),
  { file: "/srv/consumers.yaml", env: {} },
);

Deno.test("missingTopicWarnings() warns at each output topic that does not exist, once for defaults", () => {
  assert.deepEqual(missingTopicWarnings(config, new Set(["orders", "orders.enriched"]), "c.yaml"), [
    'c.yaml:2:13 defaults.outputs[0]: warning: output topic "audit" does not exist: ' +
    'ctx.produce() to it fails, and so does the call that made it (for consumers[0] "a")',
    'c.yaml:9:32 consumers[1].outputs[1]: warning: output topic "orders.priced" does not exist: ' +
    "ctx.produce() to it fails, and so does the call that made it",
  ]);
});

Deno.test("missingTopicWarnings() says nothing when every output topic exists", () => {
  const all = new Set(["orders", "audit", "orders.enriched", "orders.priced"]);
  assert.deepEqual(missingTopicWarnings(config, all, "c.yaml"), []);
});

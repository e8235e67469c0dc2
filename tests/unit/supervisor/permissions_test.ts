import assert from "node:assert/strict";
import { parseConfig } from "../../../src/config/parse.ts";
import { workerPermissions } from "../../../src/supervisor/permissions.ts";

const config = parseConfig(
  [
    "kafka: { brokers: 'k1:9092,k2:9092' }",
    "consumers:",
    "  - name: a",
    "    group: g",
    "    topic: t",
    "    handler: ./a.ts",
    "    permissions: { net: ['api:443'], read: ['/data'], env: ['TOKEN'] }",
  ].join("\n"),
  { file: "/srv/consumers.yaml" },
);
const consumer = config.consumers[0]!;

Deno.test("workerPermissions(): the brokers, the package (the runtime's files, node_modules), the handler, and what the consumer grants", () => {
  const p = workerPermissions(consumer, config.kafka, {
    packageDir: "/app",
  });
  assert.deepEqual(p.net, ["k1:9092", "k2:9092", "api:443"]);
  assert.deepEqual(p.read, ["/app", "/srv/a.ts", "/data"]);
  assert.deepEqual(p.write, []);
  assert.ok(p.env.includes("TOKEN") && p.env.includes("NODE_ENV"));
});

Deno.test("workerPermissions(): node_modules where it really is too, when it is a link to elsewhere", () => {
  const p = workerPermissions(consumer, config.kafka, {
    packageDir: "/app",
    realNodeModules: "/cache/modules",
  });
  assert.deepEqual(p.read, ["/app", "/cache/modules", "/srv/a.ts", "/data"]);
});

Deno.test("workerPermissions(): the handler's project whole, and where its links lead", () => {
  const p = workerPermissions(consumer, config.kafka, {
    packageDir: "/app",
    handlerProject: { root: "/srv", linked: ["/store/node_modules"] },
  });
  assert.deepEqual(p.read, ["/app", "/srv/a.ts", "/srv", "/store/node_modules", "/data"]);
});

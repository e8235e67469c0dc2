import assert from "node:assert/strict";
import { parseConfig } from "../../../src/config/parse.ts";
import { isSecretPath, redactConfig, REDACTED } from "../../../src/config/redact.ts";
import { issuesOf, yaml } from "./_helpers.ts";

const SECRET = "hunter2-do-not-print";
const TEXT = yaml(
  "kafka:",
  "  ssl: { key: '${TLS_KEY}', cert: CERT }",
  "  sasl: { mechanism: plain, username: svc, password: '${KAFKA_PASSWORD}' }",
  "consumers:",
  "  - { name: a, group: g, topic: t, handler: ./h.ts }",
);
const ENV = { KAFKA_PASSWORD: SECRET, TLS_KEY: `${SECRET}-key` };

Deno.test("redactConfig() hides the SASL password and the TLS key, and only those", () => {
  const config = parseConfig(TEXT, { file: "/c.yaml", env: ENV });
  const redacted = redactConfig(config);
  assert.deepEqual(redacted.kafka.sasl, {
    mechanism: "plain",
    username: "svc",
    password: REDACTED,
  });
  assert.deepEqual(redacted.kafka.ssl, { key: REDACTED, cert: "CERT", rejectUnauthorized: true });
  assert.equal(JSON.stringify(redacted).includes(SECRET), false);
  assert.deepEqual(redacted.consumers, config.consumers);
});

Deno.test("redactConfig() leaves the original config untouched", () => {
  const config = parseConfig(TEXT, { file: "/c.yaml", env: ENV });
  redactConfig(config);
  assert.equal(config.kafka.sasl?.password, SECRET);
});

Deno.test("redactConfig() copes with no ssl and no sasl", () => {
  const config = parseConfig(yaml("consumers: []"), { file: "/c.yaml", env: {} });
  assert.deepEqual(redactConfig(config).kafka, config.kafka);
});

Deno.test("config errors never print a secret", async () => {
  const cases = [
    // A valid secret next to an error elsewhere.
    TEXT.replace("topic: t", "topic: 'bad topic'"),
    // A secret where a mapping was expected.
    yaml("kafka:", `  sasl: '${SECRET}'`, "consumers: []"),
    // A secret of the wrong type.
    yaml("kafka:", "  sasl: { mechanism: plain, username: u, password: [1] }", "consumers: []"),
    // A misplaced secret in ssl.
    yaml("kafka:", `  ssl: '${SECRET}'`, "consumers: []"),
    // A status-server token of the wrong type.
    yaml("http:", `  token: [${SECRET}]`, "consumers: []"),
  ];
  for (const text of cases) {
    const issues = await issuesOf(() => parseConfig(text, { file: "/c.yaml", env: ENV }));
    assert.ok(issues.length > 0);
    for (const issue of issues) assert.equal(issue.message.includes(SECRET), false, issue.message);
  }
});

Deno.test("isSecretPath() names the secret fields", () => {
  assert.equal(isSecretPath(["kafka", "sasl", "password"]), true);
  assert.equal(isSecretPath(["kafka", "ssl", "key"]), true);
  assert.equal(isSecretPath(["http", "token"]), true);
  assert.equal(isSecretPath(["http", "listen"]), false);
  assert.equal(isSecretPath(["kafka", "sasl", "username"]), false);
  assert.equal(isSecretPath(["consumers", 0, "password"]), false);
});

import assert from "node:assert/strict";
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { loadConfigFile, parseConfig } from "../../../src/config/load.ts";
import type { Config } from "../../../src/config/types.ts";
import { issuesOf, yaml } from "./_helpers.ts";

const FILE = resolve("/srv/app/consumers.yaml");
const parse = (text: string, env: Record<string, string> = {}): Config =>
  parseConfig(text, { file: FILE, env });

const MINIMAL = yaml(
  "consumers:",
  "  - name: audit",
  "    group: g",
  "    topic: orders",
  "    handler: ./workers/audit.ts",
);

Deno.test("parseConfig() applies every default", () => {
  assert.deepEqual(
    parse(MINIMAL),
    {
      path: FILE,
      kafka: {
        brokers: ["127.0.0.1:9092"],
        clientId: "consumerd",
        ssl: false,
        sasl: null,
        engine: "kafkajs",
        groupProtocol: "classic",
        groupRemoteAssignor: null,
        instanceId: "",
        sessionTimeoutMs: 30000,
      },
      http: { host: "127.0.0.1", port: 9464 },
      httpToken: null,
      httpAllowedHosts: [],
      shutdown: { gracePeriodMs: 30000 },
      lines: {
        audit: {
          topic: 4,
          handler: 5,
          place: { index: 0, name: "audit", file: FILE, line: 2, permissions: {} },
          topics: [{ field: "topic", path: "consumers[0].topic", line: 4, column: 12 }],
        },
      },
      reload: { handlers: true, debounceMs: 300 },
      consumers: [{
        name: "audit",
        group: "g",
        topic: "orders",
        engine: null,
        groupProtocol: null,
        mode: "balanced",
        partitions: null,
        autoOffsetReset: "earliest",
        resetOffsetOnStart: false,
        handler: resolve("/srv/app/workers/audit.ts"),
        commit: { mode: "auto", intervalMs: 5000 },
        replicas: 1,
        retry: { attempts: 3, backoffMs: 200, maxBackoffMs: 30000 },
        fetch: { maxBytesPerPartition: 1048576, maxBytes: 10485760, maxWaitMs: 500 },
        deadLetterTopic: null,
        outputs: [],
        delivery: "at-least-once",
        ordering: "partition",
        concurrency: 1,
        maxBuffered: 10000,
        handlerTimeoutMs: 300000,
        startupTimeoutMs: 60000,
        permissions: { net: [], read: [], write: [], env: [] },
        settings: {},
      }],
      settingsFromEnv: {},
    } satisfies Config,
  );
});

Deno.test("parseConfig() applies defaults: where a consumer omits a field, merging objects key by key", () => {
  const config = parse(yaml(
    "defaults:",
    "  group: shared",
    "  autoOffsetReset: LATEST",
    "  retry: { attempts: 7, backoffMs: 50 }",
    "  permissions: { net: [api.example.com], env: [TZ] }",
    "  handler: ./workers/default.ts",
    "consumers:",
    "  - name: a",
    "    topic: t1",
    "  - name: b",
    "    topic: t2",
    "    group: own",
    "    autoOffsetReset: earliest",
    "    retry: { attempts: 1 }",
    "    permissions: { net: [] }",
    "    handler: ./workers/b.ts",
  ));
  const [a, b] = config.consumers;
  assert.ok(a !== undefined && b !== undefined);
  assert.equal(a.group, "shared");
  assert.equal(a.autoOffsetReset, "latest");
  assert.deepEqual(a.retry, { attempts: 7, backoffMs: 50, maxBackoffMs: 30000 });
  assert.deepEqual(a.permissions, { net: ["api.example.com"], read: [], write: [], env: ["TZ"] });
  assert.equal(a.handler, resolve("/srv/app/workers/default.ts"));
  assert.equal(b.group, "own");
  assert.equal(b.autoOffsetReset, "earliest");
  assert.deepEqual(b.retry, { attempts: 1, backoffMs: 50, maxBackoffMs: 30000 });
  assert.deepEqual(b.permissions, { net: [], read: [], write: [], env: ["TZ"] });
  assert.equal(b.handler, resolve("/srv/app/workers/b.ts"));
});

Deno.test("parseConfig() normalises autoOffsetReset spelt as PyKafka does", () => {
  for (
    const [written, expected] of [["EARLIEST", "earliest"], ["LATEST", "latest"], [
      "latest",
      "latest",
    ]]
  ) {
    const config = parse(MINIMAL + `    autoOffsetReset: ${written}\n`);
    assert.equal(config.consumers[0]?.autoOffsetReset, expected);
  }
});

Deno.test("parseConfig() accepts brokers as a list or one comma-separated string", () => {
  const fromString = parse(yaml("kafka:", "  brokers: 'k1:9092, k2:9093 ,[::1]:9094'") + MINIMAL);
  assert.deepEqual(fromString.kafka.brokers, ["k1:9092", "k2:9093", "[::1]:9094"]);
  const fromList = parse(
    yaml("kafka:", '  brokers: ["${KAFKA_BROKERS:-x:1}", "k3:9092"]') + MINIMAL,
    { KAFKA_BROKERS: "k1:9092,k2:9092" },
  );
  assert.deepEqual(fromList.kafka.brokers, ["k1:9092", "k2:9092", "k3:9092"]);
  const defaulted = parse(
    yaml("kafka:", '  brokers: ["${KAFKA_BROKERS:-127.0.0.1:9092}"]') + MINIMAL,
  );
  assert.deepEqual(defaulted.kafka.brokers, ["127.0.0.1:9092"]);
});

Deno.test("parseConfig() interpolates ${VAR}, ${VAR:-default}, ${VAR:?message} and $${", () => {
  const config = parse(
    yaml(
      "kafka:",
      "  clientId: ${APP}-${ENVIRONMENT:-dev}-${REGION:-eu}",
      "  sasl:",
      "    mechanism: plain",
      "    username: ${USER_NAME:?set USER_NAME}",
      '    password: "$${NOT_A_VAR}"',
    ) + MINIMAL,
    { APP: "billing", ENVIRONMENT: "", USER_NAME: "svc" },
  );
  assert.equal(config.kafka.clientId, "billing-dev-eu");
  assert.deepEqual(config.kafka.sasl, {
    mechanism: "plain",
    username: "svc",
    password: "${NOT_A_VAR}",
  });
});

Deno.test("parseConfig() keeps a variable holding newlines and YAML syntax as one string", () => {
  const config = parse(yaml("kafka:", "  clientId: ${CLIENT}") + MINIMAL, {
    CLIENT: "a\nconsumers: []\n- evil: true",
  });
  assert.equal(config.kafka.clientId, "a\nconsumers: []\n- evil: true");
  assert.equal(config.consumers.length, 1);
});

Deno.test("parseConfig() resolves http.listen", () => {
  const listen = (value: string) => parse(yaml("http:", `  listen: ${value}`) + MINIMAL).http;
  assert.equal(listen("false"), false);
  assert.deepEqual(listen("0.0.0.0:8080"), { host: "0.0.0.0", port: 8080 });
  assert.deepEqual(listen('"[::1]:0"'), { host: "::1", port: 0 });
  assert.deepEqual(listen("status.local:9464"), { host: "status.local", port: 9464 });
});

Deno.test("parseConfig() reads http.allowedHosts lowercased, without a trailing dot", () => {
  const config = parse(
    yaml("http:", '  allowedHosts: [Consumerd.Ops.Svc., "status.example.com"]') + MINIMAL,
  );
  assert.deepEqual(config.httpAllowedHosts, ["consumerd.ops.svc", "status.example.com"]);
});

Deno.test("parseConfig() resolves ssl: true to TLS with verification", () => {
  assert.deepEqual(parse(yaml("kafka:", "  ssl: true") + MINIMAL).kafka.ssl, {
    rejectUnauthorized: true,
  });
  assert.deepEqual(parse(yaml("kafka:", "  ssl: { ca: PEM }") + MINIMAL).kafka.ssl, {
    ca: "PEM",
    rejectUnauthorized: true,
  });
  assert.deepEqual(
    parse(yaml("kafka:", "  ssl: { rejectUnauthorized: false }") + MINIMAL).kafka.ssl,
    {
      rejectUnauthorized: false,
    },
  );
});

Deno.test("parseConfig() resolves handler and permission paths against the file's directory", () => {
  const config = parse(
    MINIMAL + "    permissions: { read: [./data, /etc/ssl], write: [../out] }\n",
  );
  const consumer = config.consumers[0];
  assert.equal(consumer?.handler, resolve("/srv/app/workers/audit.ts"));
  assert.deepEqual(consumer?.permissions.read, [resolve("/srv/app/data"), resolve("/etc/ssl")]);
  assert.deepEqual(consumer?.permissions.write, [resolve("/srv/out")]);
});

Deno.test("parseConfig() accepts simple mode with partitions and disjoint simple consumers", () => {
  const config = parse(yaml(
    "defaults: { group: g, topic: t, mode: simple, handler: ./h.ts }",
    "consumers:",
    "  - { name: even, partitions: [0, 2] }",
    "  - { name: odd, partitions: [1, 3] }",
  ));
  assert.deepEqual(config.consumers.map((c) => c.partitions), [[0, 2], [1, 3]]);
});

Deno.test("parseConfig() accepts anchors, aliases and << merge keys", () => {
  const config = parse(yaml(
    "defaults:",
    "  permissions: &perms { net: [api.example.com] }",
    "consumers:",
    "  - &base",
    "    name: a",
    "    group: g",
    "    topic: t",
    "    handler: ./h.ts",
    "  - <<: *base",
    "    name: b",
    "    topic: u",
    "    permissions: *perms",
  ));
  assert.deepEqual(config.consumers.map((c) => [c.name, c.group, c.topic]), [["a", "g", "t"], [
    "b",
    "g",
    "u",
  ]]);
  assert.deepEqual(config.consumers[1]?.permissions.net, ["api.example.com"]);
});

Deno.test("parseConfig() accepts an empty consumers list and a UTF-8 byte order mark", () => {
  assert.deepEqual(parse("\uFEFFconsumers: []\n").consumers, []);
});

Deno.test("parseConfig() returns fresh default objects on every call", () => {
  const first = parse(MINIMAL);
  first.consumers[0]?.permissions.net.push("mutated");
  first.kafka.brokers.push("mutated:1");
  const second = parse(MINIMAL);
  assert.deepEqual(second.consumers[0]?.permissions.net, []);
  assert.deepEqual(second.kafka.brokers, ["127.0.0.1:9092"]);
});

Deno.test("loadConfigFile() loads a file whose handlers export default or handleBatch", async () => {
  const file = fileURLToPath(new URL("./fixtures/consumers.yaml", import.meta.url));
  const config = await loadConfigFile(file, { env: {} });
  assert.equal(config.path, file);
  assert.equal(config.http, false);
  assert.deepEqual(
    config.consumers.map((c) => [c.name, c.group, c.topic, c.commit.mode]),
    [["single", "fixtures", "orders", "auto"], ["batch", "fixtures", "payments", "manual"]],
  );
  assert.equal(
    config.consumers[1]?.handler,
    fileURLToPath(new URL("./fixtures/handlers/handle_batch.ts", import.meta.url)),
  );
});

Deno.test("loadConfigFile() skips the handler check when asked", async () => {
  const file = fileURLToPath(new URL("./fixtures/consumers.yaml", import.meta.url));
  const config = await loadConfigFile(file, { env: {}, checkHandlers: false });
  assert.equal(config.consumers.length, 2);
});

Deno.test("loadConfigFile() reports a missing config file as an issue", async () => {
  const issues = await issuesOf(() => loadConfigFile("/nonexistent/consumers.yaml", { env: {} }));
  assert.deepEqual(issues, [{
    file: "/nonexistent/consumers.yaml",
    line: 1,
    column: 1,
    path: "",
    message: "cannot read the config file: it does not exist",
  }]);
});

Deno.test("parseConfig() reads http.token from the environment; empty means none; redactConfig() hides it", async () => {
  const { redactConfig } = await import("../../../src/config/redact.ts");
  const text = yaml("http:", "  listen: 0.0.0.0:9464", "  token: ${CONSUMERD_TOKEN:-}") + MINIMAL;
  const config = parse(text, { CONSUMERD_TOKEN: "s3cret" });
  assert.equal(config.httpToken, "s3cret");
  assert.equal(redactConfig(config).httpToken, "[redacted]");
  assert.equal(parse(text).httpToken, null);
});

Deno.test("parseConfig() takes kafka.engine and a consumer's engine override", () => {
  const config = parse(yaml(
    "kafka:",
    "  engine: platformatic",
    "consumers:",
    "  - name: a",
    "    group: g",
    "    topic: t",
    "    handler: ./workers/a.ts",
    "  - name: b",
    "    group: g",
    "    topic: t",
    "    handler: ./workers/b.ts",
    "    engine: kafkajs",
  ));
  assert.equal(config.kafka.engine, "platformatic");
  assert.deepEqual(config.consumers.map((c) => c.engine), [null, "kafkajs"]);
});

Deno.test("parseConfig() takes any YAML value as a consumer's settings, with ${VAR}, merged with defaults key by key", () => {
  const config = parse(
    yaml(
      "defaults:",
      "  settings: { region: eu, pool: { size: 4 } }",
      "consumers:",
      "  - name: a",
      "    group: g",
      "    topic: t",
      "    handler: ./a.ts",
      "    settings:",
      "      pool: { size: 8 }",
      "      token: ${PRICE_TOKEN}",
      "      tiers: [1, 2.5, null, true]",
      "  - { name: b, group: g, topic: t2, handler: ./b.ts, settings: 42 }",
      "  - { name: c, group: g, topic: t3, handler: ./c.ts }",
    ),
    { PRICE_TOKEN: "s3cr3t" },
  );
  const [a, b, c] = config.consumers;
  assert.deepEqual(a?.settings, {
    region: "eu",
    pool: { size: 8 },
    token: "s3cr3t",
    tiers: [1, 2.5, null, true],
  });
  assert.equal(b?.settings, 42, "a value that is not a mapping replaces the defaults' whole");
  assert.deepEqual(c?.settings, { region: "eu", pool: { size: 4 } });
  assert.deepEqual(config.settingsFromEnv, { a: [["token"]] });
});

Deno.test("parseConfig() gives a consumer without settings an empty mapping", () => {
  assert.deepEqual(parse(MINIMAL).consumers[0]?.settings, {});
});

Deno.test("parseConfig() takes the group protocol, static membership and session timeout, and a consumer's protocol override", () => {
  const config = parse(
    yaml(
      "kafka:",
      "  engine: platformatic",
      "  groupProtocol: consumer",
      "  groupRemoteAssignor: range",
      "  instanceId: ${POD_NAME:-}",
      "  sessionTimeoutMs: 10000",
      "consumers:",
      "  - name: a",
      "    group: g",
      "    topic: t",
      "    handler: ./workers/a.ts",
      "  - name: b",
      "    group: g",
      "    topic: t",
      "    handler: ./workers/b.ts",
      "    groupProtocol: classic",
    ),
    { POD_NAME: "consumerd-2" },
  );
  assert.equal(config.kafka.groupProtocol, "consumer");
  assert.equal(config.kafka.groupRemoteAssignor, "range");
  assert.equal(config.kafka.instanceId, "consumerd-2");
  assert.equal(config.kafka.sessionTimeoutMs, 10000);
  assert.deepEqual(config.consumers.map((c) => c.groupProtocol), [null, "classic"]);
  assert.equal(
    parse(MINIMAL.replace("consumers:", "kafka: { instanceId: '${HOSTNAME:-}' }\nconsumers:")).kafka
      .instanceId,
    "",
    "an unset variable turns static membership off",
  );
});

Deno.test("parseConfig() lets a kafkajs consumer in simple mode sit beside kafka.instanceId: it joins no group", () => {
  const config = parse(yaml(
    "kafka: { instanceId: pod-0, groupProtocol: consumer }",
    "defaults: { engine: platformatic }",
    "consumers:",
    "  - { name: a, group: g, topic: t, handler: ./a.ts }",
    "  - { name: b, group: g2, topic: t, handler: ./b.ts, engine: kafkajs, mode: simple }",
  ));
  assert.deepEqual(config.consumers.map((c) => c.engine), ["platformatic", "kafkajs"]);
});

Deno.test("parseConfig() fills concurrency by ordering: 1 for partition, 16 for key and none, unless set", () => {
  const config = parse(yaml(
    "defaults: { group: g, topic: t, handler: ./h.ts }",
    "consumers:",
    "  - { name: a }",
    "  - { name: b, ordering: key }",
    "  - { name: c, ordering: none, concurrency: 256, maxBuffered: 500 }",
    "  - { name: d, ordering: key, concurrency: 4000 }",
  ));
  assert.deepEqual(
    config.consumers.map((c) => [c.name, c.ordering, c.concurrency, c.maxBuffered]),
    [
      ["a", "partition", 1, 10000],
      ["b", "key", 16, 10000],
      ["c", "none", 256, 500],
      ["d", "key", 4000, 10000],
    ],
  );
});

Deno.test("parseConfig() takes delivery: exactly-once on the platformatic engine, balanced, ordering: partition", () => {
  const config = parse(yaml(
    "kafka: { engine: platformatic }",
    "consumers:",
    "  - { name: a, group: g, topic: t, handler: ./h.ts, outputs: [o], delivery: exactly-once }",
  ));
  assert.equal(config.consumers[0]!.delivery, "exactly-once");
});

Deno.test("parseConfig() takes delivery: exactly-once with ordering: key and none", () => {
  const config = parse(yaml(
    "kafka: { engine: platformatic }",
    "defaults: { handler: ./h.ts, outputs: [o], delivery: exactly-once }",
    "consumers:",
    "  - { name: a, group: g, topic: t, ordering: key }",
    "  - { name: b, group: g, topic: t, ordering: none }",
  ));
  assert.deepEqual(config.consumers.map((c) => [c.ordering, c.delivery]), [
    ["key", "exactly-once"],
    ["none", "exactly-once"],
  ]);
});

Deno.test("parseConfig() takes delivery: exactly-once in simple mode", () => {
  const config = parse(yaml(
    "kafka: { engine: platformatic }",
    "consumers:",
    "  - { name: a, group: g, topic: t, handler: ./h.ts, outputs: [o], delivery: exactly-once,",
    "      mode: simple, partitions: [0, 1] }",
  ));
  assert.deepEqual(
    config.consumers.map((c) => [c.mode, c.delivery]),
    [["simple", "exactly-once"]],
  );
});

Deno.test("parseConfig() takes delivery: exactly-once under the consumer group protocol", () => {
  const config = parse(yaml(
    "kafka: { engine: platformatic, groupProtocol: consumer }",
    "consumers:",
    "  - { name: a, group: g, topic: t, handler: ./h.ts, outputs: [o], delivery: exactly-once }",
  ));
  assert.deepEqual(config.consumers.map((c) => c.delivery), ["exactly-once"]);
});

Deno.test("parseConfig() takes outputs and delivery, by default none and at-least-once", () => {
  const config = parse(yaml(
    "defaults: { group: g, topic: t, handler: ./h.ts }",
    "consumers:",
    "  - { name: a }",
    "  - { name: b, outputs: [orders.enriched, audit], delivery: at-least-once }",
  ));
  assert.deepEqual(config.consumers.map((c) => [c.outputs, c.delivery]), [
    [[], "at-least-once"],
    [["orders.enriched", "audit"], "at-least-once"],
  ]);
});

/**
 * Table of bad configurations: each must be rejected with exactly the listed
 * issues (field path, line, and a message substring), all at once.
 */
import assert from "node:assert/strict";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { analyzeConfig, loadConfigFile } from "../../../src/config/load.ts";
import { MAX_ALIAS_COUNT } from "../../../src/config/limits.ts";
import { assertIssues, type ExpectedIssue, issuesOf, makeWorkspace, yaml } from "./_helpers.ts";

/** Past this, a parser limit did not stop the work early (see `BadConfig.bounded`). */
const HANG_MS = 15_000;

interface BadConfig {
  name: string;
  text: string;
  env?: Record<string, string>;
  expect: ExpectedIssue[];
  /**
   * An input built to exhaust the parser: its message proves which limit
   * stopped it; this only guards against a hang (without its limit the alias
   * bomb expands exponentially), so it is far above the 0.1–2 s these take
   * even on a loaded 2-core machine: a timing bound near that flaked.
   */
  bounded?: true;
}

/** A valid file whose consumer entry (from line 4) gets `extra` lines. */
function withConsumer(...extra: string[]): string {
  return yaml(
    "kafka:", // 1
    "  brokers: [127.0.0.1:9092]", // 2
    "consumers:", // 3
    "  - name: audit", // 4
    "    group: g", // 5
    "    topic: orders", // 6
    "    handler: ./handlers/default_export.ts", // 7
    ...extra, // 8…
  );
}

/** A valid file whose top level gets `lines` before `consumers:` (line 1…). */
function withTopLevel(...lines: string[]): string {
  return yaml(
    ...lines,
    "consumers:",
    "  - { name: audit, group: g, topic: orders, handler: ./handlers/default_export.ts }",
  );
}

function billionLaughs(): string {
  const lines = ['a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]'];
  const names = "abcdefghij";
  for (let i = 1; i < names.length; i++) {
    const previous = `*${names[i - 1]}`;
    lines.push(`${names[i]}: &${names[i]} [${Array(9).fill(previous).join(", ")}]`);
  }
  return yaml(...lines, "consumers: []");
}

const CASES: BadConfig[] = [
  {
    name: "YAML syntax error: unclosed flow sequence",
    text: yaml("kafka:", "  brokers: [127.0.0.1:9092", "consumers: []"),
    expect: [{
      path: "",
      line: 2,
      column: 12,
      message: "YAML syntax error: line 2: the [ opened here is never closed with ]",
    }],
  },
  {
    name: "tab indentation",
    text: yaml("consumers:", "  - name: audit", "\tgroup: g"),
    expect: [{
      path: "",
      line: 3,
      column: 1,
      message: "line 3: indented with a tab; YAML indentation must be spaces",
    }],
  },
  {
    name: "duplicate key",
    text: withConsumer("    topic: payments"),
    expect: [{
      path: "consumers[0].topic",
      line: 8,
      column: 5,
      message: 'duplicate key "topic" (first set at line 6)',
    }],
  },
  {
    name: "several YAML documents in one file",
    text: yaml("consumers: []", "---", "consumers: []"),
    expect: [{ path: "", line: 2, message: "expected one YAML document, found a second one" }],
  },
  {
    name: "unknown top-level key, with a hint",
    text: withTopLevel("kafak:", "  brokers: [127.0.0.1:9092]"),
    expect: [{
      path: "kafak",
      line: 1,
      column: 1,
      message: 'unknown key "kafak" (did you mean "kafka"?)',
    }],
  },
  {
    name: "unknown consumer key, with a hint",
    text: withConsumer("    autoOffsetRest: earliest"),
    expect: [{
      path: "consumers[0].autoOffsetRest",
      line: 8,
      column: 5,
      message: '(did you mean "autoOffsetReset"?)',
    }],
  },
  {
    name: "unknown key without a close match lists the allowed keys",
    text: withConsumer("    commit: { mode: auto, flavour: vanilla }"),
    expect: [{
      path: "consumers[0].commit.flavour",
      line: 8,
      column: 27,
      message: 'unknown key "flavour"; expected one of: mode, intervalMs',
    }],
  },
  {
    name: "misspelt enum value autoOffsetReset: earlist",
    text: withConsumer("    autoOffsetReset: earlist"),
    expect: [{
      path: "consumers[0].autoOffsetReset",
      line: 8,
      column: 22,
      message: 'expected one of "earliest", "latest", "EARLIEST", "LATEST", found "earlist" ' +
        '(did you mean "earliest"?)',
    }],
  },
  {
    name: "misspelt SASL mechanism",
    text: withTopLevel(
      "kafka:",
      "  sasl: { mechanism: scram-sha256, username: u, password: p }",
    ),
    expect: [{
      path: "kafka.sasl.mechanism",
      line: 2,
      message: 'found "scram-sha256" (did you mean "scram-sha-256"?)',
    }],
  },
  {
    name: "wrong type: replicas is a word",
    text: withConsumer("    replicas: two"),
    expect: [{
      path: "consumers[0].replicas",
      line: 8,
      message: 'expected an integer, found "two"',
    }],
  },
  {
    name: "wrong type: boolean written as yes",
    text: withConsumer("    resetOffsetOnStart: yes"),
    expect: [{
      path: "consumers[0].resetOffsetOnStart",
      line: 8,
      message: 'expected true or false, found "yes"',
    }],
  },
  {
    name: "wrong type: a number field from ${VAR} stays a string",
    text: withConsumer("    replicas: ${REPLICAS}"),
    env: { REPLICAS: "3" },
    expect: [{
      path: "consumers[0].replicas",
      line: 8,
      message: 'expected an integer, found "3" (a ${VAR} value is always a string)',
    }],
  },
  {
    name: "negative commit interval",
    text: withConsumer("    commit: { intervalMs: -5 }"),
    expect: [{
      path: "consumers[0].commit.intervalMs",
      line: 8,
      column: 27,
      message: "expected an integer >= 1, found -5",
    }],
  },
  {
    name: "fractional interval",
    text: withConsumer("    commit: { intervalMs: 2.5 }"),
    expect: [{
      path: "consumers[0].commit.intervalMs",
      line: 8,
      message: "expected an integer, found 2.5",
    }],
  },
  {
    name: "negative shutdown grace period",
    text: withTopLevel("shutdown:", "  gracePeriodMs: -1"),
    expect: [{
      path: "shutdown.gracePeriodMs",
      line: 2,
      column: 18,
      message: "expected an integer >= 0, found -1",
    }],
  },
  {
    name: "missing handler file",
    text: withConsumer("    replicas: 2").replace("default_export.ts", "missing.ts"),
    expect: [{
      path: "consumers[0].handler",
      line: 7,
      column: 14,
      message: "handler file not found: /",
    }],
  },
  {
    name: "handler is a directory",
    text: withConsumer().replace("default_export.ts", "a-directory.ts"),
    expect: [{
      path: "consumers[0].handler",
      line: 7,
      message: "expected the handler to be a file",
    }],
  },
  {
    name: "handler without a default export or handleBatch",
    text: withConsumer().replace("default_export.ts", "no_handler.ts"),
    expect: [{
      path: "consumers[0].handler",
      line: 7,
      message: "to export a default function or a handleBatch function, found handle (string), " +
        "setup (function)",
    }],
  },
  {
    name: "handler that throws while loading",
    text: withConsumer().replace("default_export.ts", "throws_on_import.ts"),
    expect: [{
      path: "consumers[0].handler",
      line: 7,
      message: "failed to load: Error: boom while loading",
    }],
  },
  {
    name: "handler with a syntax error",
    text: withConsumer().replace("default_export.ts", "syntax_error.ts"),
    expect: [{ path: "consumers[0].handler", line: 7, message: "failed to load" }],
  },
  {
    name: "ordering key with a batch handler",
    text: withConsumer("    ordering: key").replace("default_export.ts", "handle_batch.ts"),
    expect: [{
      path: "consumers[0].handler",
      line: 7,
      message: "ordering: key needs a per-message handler (a default export); ",
    }],
  },
  {
    name: "duplicate consumer name",
    text: withConsumer(
      "  - name: audit",
      "    group: other",
      "    topic: orders",
      "    handler: ./handlers/handle_batch.ts",
    ),
    expect: [{
      path: "consumers[1].name",
      line: 8,
      column: 11,
      message: 'duplicate consumer name "audit": already used by consumers[0]',
    }],
  },
  {
    name: "consumer name with capitals and a space",
    text: withConsumer().replace("name: audit", "name: Audit Log"),
    expect: [{
      path: "consumers[0].name",
      line: 4,
      message: 'lowercase letters, digits, ".", "_" or "-", found "Audit Log"',
    }],
  },
  {
    name: "missing required field",
    text: withConsumer().replace("    topic: orders\n", ""),
    expect: [{
      path: "consumers[0].topic",
      line: 4,
      column: 5,
      message: 'missing required field "topic" (a string): set it in the consumer or in defaults',
    }],
  },
  {
    name: "missing consumers list",
    text: yaml("kafka:", "  brokers: [127.0.0.1:9092]"),
    expect: [{
      path: "consumers",
      line: 1,
      message: 'missing required field "consumers" (a list)',
    }],
  },
  {
    name: "top level is a list",
    text: yaml("- name: audit"),
    expect: [{ path: "", line: 1, message: "expected a mapping at the top level" }],
  },
  {
    name: "missing environment variable",
    text: withConsumer("    deadLetterTopic: dlq.${DLQ_SUFFIX}"),
    expect: [{
      path: "consumers[0].deadLetterTopic",
      line: 8,
      column: 26,
      message: "environment variable DLQ_SUFFIX is not set",
    }],
  },
  {
    name: "missing variable in a handler path is reported once, not also as a missing file",
    text: withConsumer().replace("./handlers/", "${HANDLERS_DIR}/"),
    expect: [{
      path: "consumers[0].handler",
      line: 7,
      column: 14,
      message: "environment variable HANDLERS_DIR is not set",
    }],
  },
  {
    name: "${VAR:?message} with the variable unset",
    text: withTopLevel(
      "kafka:",
      "  sasl:",
      "    mechanism: plain",
      "    username: svc",
      '    password: "${KAFKA_PASSWORD:?ask the platform team}"',
    ),
    expect: [{
      path: "kafka.sasl.password",
      line: 5,
      column: 16,
      message: "environment variable KAFKA_PASSWORD is not set: ask the platform team",
    }],
  },
  {
    name: "malformed ${...} expression",
    text: withConsumer("    group: ${1GROUP}").replace("    group: g\n", ""),
    expect: [{ path: "consumers[0].group", line: 7, message: 'invalid expression "${1GROUP}"' }],
  },
  {
    name: "env var with a newline stays data and fails as a topic name",
    text: withConsumer().replace("topic: orders", "topic: ${TOPIC}"),
    env: { TOPIC: "orders\nreplicas: 9" },
    expect: [{
      path: "consumers[0].topic",
      line: 6,
      message: 'expected a Kafka topic name (1-249 of A-Z a-z 0-9 . _ -, not "." or ".."), ' +
        'found "orders\\nreplicas: 9"',
    }],
  },
  {
    name: "group id from an env var with a trailing newline",
    text: withConsumer().replace("group: g", "group: ${GROUP}"),
    env: { GROUP: "orders\n" },
    expect: [{
      path: "consumers[0].group",
      line: 5,
      message: 'expected a group id without whitespace at either end, found "orders\\n"',
    }],
  },
  {
    name: "empty file",
    text: "",
    expect: [{ path: "", line: 1, column: 1, message: "the file is empty" }],
  },
  {
    name: "file with only comments",
    text: yaml("# nothing here yet", "   "),
    expect: [{ path: "", line: 1, message: "the file is empty" }],
  },
  {
    name: "a 10 MB file",
    text: `consumers: []\n# ${"x".repeat(10 * 1024 * 1024)}\n`,
    expect: [{ path: "", line: 1, message: "over the limit of 1048576 bytes (1 MiB)" }],
    bounded: true,
  },
  {
    name: "YAML alias bomb (billion laughs)",
    text: billionLaughs(),
    expect: [{
      path: "",
      line: 2,
      message: `expected at most ${MAX_ALIAS_COUNT} alias expansions`,
    }],
    bounded: true,
  },
  {
    name: "aliases repeating a large list (within the alias count)",
    text: yaml(
      "defaults:",
      `  permissions: { net: &big [${Array(12_000).fill("0").join(",")}] }`,
      "consumers:",
      ...Array.from({ length: 90 }, (_, i) => `  - { name: c${i}, permissions: { net: *big } }`),
    ),
    expect: [{
      path: "",
      line: 4,
      column: 37,
      message: "expected at most 1000000 values with aliases",
    }],
    bounded: true,
  },
  {
    name: "deeply nested flow collections",
    text: `consumers: ${"[".repeat(100_000)}${"]".repeat(100_000)}\n`,
    expect: [{ path: "", line: 1, column: 76, message: "nested at most 64 deep" }],
    bounded: true,
  },
  {
    name: "partitions in balanced mode",
    text: withConsumer("    partitions: [0, 1]"),
    expect: [{
      path: "consumers[0].partitions",
      line: 8,
      message: 'partitions is only allowed in simple mode, found mode "balanced"',
    }],
  },
  {
    name: "duplicate partition",
    text: withConsumer("    mode: simple", "    partitions: [0, 1, 0]"),
    expect: [{ path: "consumers[0].partitions[2]", line: 9, column: 24, message: "found 0 twice" }],
  },
  {
    name: "replicas > 1 in simple mode",
    text: withConsumer("    mode: simple", "    replicas: 3"),
    expect: [{
      path: "consumers[0].replicas",
      line: 9,
      message: "expected replicas: 1 in simple mode, found 3",
    }],
  },
  {
    name: "conflicting autoOffsetReset in one group and topic",
    text: withConsumer(
      "  - name: audit-2",
      "    group: g",
      "    topic: orders",
      "    autoOffsetReset: LATEST",
      "    handler: ./handlers/default_export.ts",
    ),
    expect: [{
      path: "consumers[1].autoOffsetReset",
      line: 11,
      message: 'expected autoOffsetReset: "earliest" as in consumers[0] ("audit"), found "latest"',
    }],
  },
  {
    name: "conflicting mode in one group and topic",
    text: withConsumer(
      "  - { name: audit-2, group: g, topic: orders, mode: simple,",
      "      handler: ./handlers/default_export.ts }",
    ),
    expect: [{ path: "consumers[1].mode", line: 8, message: 'expected mode: "balanced"' }],
  },
  {
    name: "simple consumers of one group and topic reading the same partition",
    text: yaml(
      "defaults: { group: g, topic: orders, mode: simple, handler: ./handlers/default_export.ts }",
      "consumers:",
      "  - { name: a, partitions: [0, 1] }",
      "  - { name: b, partitions: [1, 2] }",
    ),
    expect: [{
      path: "consumers[1].partitions",
      line: 4,
      message: 'partition 1 also read by consumers[0] ("a")',
    }],
  },
  {
    name: "bad broker in a comma-separated string",
    text: withTopLevel("kafka:", "  brokers: 127.0.0.1:9092,localhost"),
    expect: [{
      path: "kafka.brokers",
      line: 2,
      column: 12,
      message: 'found "localhost" in "127.0.0.1:9092,localhost": the port is missing',
    }],
  },
  {
    name: "bad broker in a list",
    text: withTopLevel("kafka:", "  brokers:", "    - 127.0.0.1:9092", "    - kafka:99999"),
    expect: [{
      path: "kafka.brokers[1]",
      line: 4,
      column: 7,
      message: "the port 99999 is outside 1-65535",
    }],
  },
  {
    name: "unquoted ${VAR} as the only item of a flow list",
    text: withTopLevel("kafka:", "  brokers: [${KAFKA_BROKERS}]"),
    env: { KAFKA_BROKERS: "k:9092" },
    expect: [{
      path: "",
      line: 2,
      message:
        "YAML syntax error: Missing , or : between flow sequence items (inside [ ] or { }, " +
        'quote "${VAR}" expressions)',
    }],
  },
  {
    name: "empty broker list",
    text: withTopLevel("kafka:", "  brokers: []"),
    expect: [{
      path: "kafka.brokers",
      line: 2,
      message: "expected at least one broker address, found an empty list",
    }],
  },
  {
    name: "brokers of the wrong type",
    text: withTopLevel("kafka:", "  brokers: 9092"),
    expect: [{ path: "kafka.brokers", line: 2, message: "one comma-separated string, found 9092" }],
  },
  {
    name: "http.listen without a port",
    text: withTopLevel("http:", "  listen: localhost"),
    expect: [{
      path: "http.listen",
      line: 2,
      column: 11,
      message: 'expected "host:port" or false, found "localhost": the port is missing',
    }],
  },
  {
    name: "http.listen as a bare port number",
    text: withTopLevel("http:", "  listen: 9464"),
    expect: [{
      path: "http.listen",
      line: 2,
      message: 'expected "host:port" or false, found 9464',
    }],
  },
  {
    name: "http.allowedHosts with a port, a scheme and a wildcard",
    text: withTopLevel("http:", '  allowedHosts: [ok.example, "a.example:9464", "http://b", "*"]'),
    expect: [1, 2, 3].map((index) => ({
      path: `http.allowedHosts[${index}]`,
      line: 2,
      message: "expected a host name without scheme, port or wildcard, such as " +
        "consumerd.example.com, found",
    })),
  },
  {
    name: "http.listen true",
    text: withTopLevel("http:", "  listen: true"),
    expect: [{
      path: "http.listen",
      line: 2,
      message: 'expected "host:port" or false, found true',
    }],
  },
  {
    name: "unknown key inside ssl, with a hint",
    text: withTopLevel("kafka:", "  ssl: { ca: x, kye: y }"),
    expect: [{ path: "kafka.ssl.kye", line: 2, column: 17, message: '(did you mean "key"?)' }],
  },
  {
    name: "a secret of the wrong type is not echoed",
    text: withTopLevel("kafka:", "  sasl: { mechanism: plain, username: u, password: 424242 }"),
    expect: [{
      path: "kafka.sasl.password",
      line: 2,
      message: "expected a string, found a number (hidden)",
    }],
  },
  {
    name: "sasl without a password",
    text: withTopLevel("kafka:", "  sasl: { mechanism: plain, username: u }"),
    expect: [{
      path: "kafka.sasl.password",
      line: 2,
      column: 9,
      message: 'missing required field "password"',
    }],
  },
  {
    name: "a bad value in defaults is reported once, where it is written",
    text: yaml(
      "defaults:",
      "  retry: { attempts: -1 }",
      "consumers:",
      "  - { name: a, group: g, topic: t1, handler: ./handlers/default_export.ts }",
      "  - { name: b, group: g, topic: t2, handler: ./handlers/default_export.ts }",
    ),
    expect: [{
      path: "defaults.retry.attempts",
      line: 2,
      message: "expected an integer >= 0, found -1",
    }],
  },
  {
    name: "name in defaults",
    text: yaml("defaults:", "  name: shared", "consumers: []"),
    expect: [{
      path: "defaults.name",
      line: 2,
      column: 3,
      message: 'unknown key "name": a consumer\'s name cannot have a default',
    }],
  },
  {
    name: "a rule broken through defaults names the consumer",
    text: yaml(
      "defaults:",
      "  partitions: [0]",
      "consumers:",
      "  - { name: a, group: g, topic: t, handler: ./handlers/default_export.ts }",
    ),
    expect: [{
      path: "defaults.partitions",
      line: 2,
      message: 'only allowed in simple mode, found mode "balanced" (in balanced mode the group ' +
        'assigns partitions) (for consumers[0] "a")',
    }],
  },
  {
    name: "dead-letter topic equal to the consumed topic",
    text: withConsumer("    deadLetterTopic: orders"),
    expect: [{
      path: "consumers[0].deadLetterTopic",
      line: 8,
      message: "other than the consumed topic",
    }],
  },
  {
    name: "maxBackoffMs below backoffMs",
    text: withConsumer("    retry: { backoffMs: 1000, maxBackoffMs: 10 }"),
    expect: [{
      path: "consumers[0].retry.maxBackoffMs",
      line: 8,
      message: "expected maxBackoffMs >= backoffMs (1000), found 10",
    }],
  },
  {
    name: "groupProtocol: consumer on the kafkajs engine, set on the consumer",
    text: withConsumer("    groupProtocol: consumer"),
    expect: [{
      path: "consumers[0].groupProtocol",
      line: 8,
      message: 'groupProtocol: consumer needs engine: platformatic; consumers[0] ("audit") ' +
        "reads with kafkajs, which speaks only the classic protocol",
    }],
  },
  {
    name: "kafka.groupProtocol: consumer with kafka.engine kafkajs names every consumer it reaches",
    text: yaml(
      "kafka:",
      "  groupProtocol: consumer",
      "consumers:",
      "  - { name: a, group: g, topic: t, handler: ./handlers/default_export.ts }",
      "  - { name: b, group: g, topic: t, handler: ./handlers/default_export.ts, engine: platformatic }",
      "  - { name: c, group: g, topic: t, handler: ./handlers/default_export.ts }",
    ),
    expect: [{
      path: "kafka.groupProtocol",
      line: 2,
      message: 'groupProtocol: consumer needs engine: platformatic; consumers[0] ("a"), ' +
        'consumers[2] ("c") read with kafkajs, which speaks only the classic protocol ' +
        "(set kafka.engine: platformatic, or engine: platformatic on each)",
    }],
  },
  {
    name: "kafka.instanceId with a balanced consumer on kafkajs",
    text: yaml(
      "kafka:",
      "  instanceId: pod-0",
      "consumers:",
      "  - { name: a, group: g, topic: t, handler: ./handlers/default_export.ts }",
    ),
    expect: [{
      path: "kafka.instanceId",
      line: 2,
      message: 'static membership (instanceId) needs engine: platformatic; consumers[0] ("a") ' +
        "reads with kafkajs, which cannot join with a group.instance.id",
    }],
  },
  {
    name: "an instanceId Kafka would refuse",
    text: withTopLevel("kafka: { engine: platformatic, instanceId: 'pod 0/a' }"),
    expect: [{
      path: "kafka.instanceId",
      line: 1,
      message: 'expected an instance id of 1-128 letters, digits, ".", "_" or "-" (or "" for ' +
        'none), found "pod 0/a"',
    }],
  },
  {
    name: "a session timeout below the broker's minimum",
    text: withTopLevel("kafka: { sessionTimeoutMs: 3000 }"),
    expect: [{
      path: "kafka.sessionTimeoutMs",
      line: 1,
      message: "expected an integer >= 6000, found 3000",
    }],
  },
  {
    name: "delivery: exactly-once on the kafkajs engine",
    text: withConsumer("    outputs: [orders.enriched]", "    delivery: exactly-once"),
    expect: [{
      path: "consumers[0].delivery",
      line: 9,
      message: 'delivery: exactly-once needs engine: platformatic; consumers[0] ("audit") ' +
        "reads with kafkajs, whose transactions cannot carry the group's generation (KIP-447) " +
        "(set kafka.engine: platformatic, or engine: platformatic on it)",
    }],
  },
  {
    name: "delivery: exactly-once from defaults names the consumers it reaches on kafkajs",
    text: yaml(
      "defaults:",
      "  delivery: exactly-once",
      "consumers:",
      "  - { name: a, group: g, topic: t, handler: ./handlers/default_export.ts }",
    ),
    expect: [{
      path: "defaults.delivery",
      line: 2,
      message: 'delivery: exactly-once needs engine: platformatic; consumers[0] ("a") reads ' +
        "with kafkajs",
    }],
  },
  {
    name: "an unknown delivery",
    text: withConsumer("    delivery: exactly-twice"),
    expect: [{ path: "consumers[0].delivery", line: 8, message: 'found "exactly-twice"' }],
  },
  {
    name: "an output that is not a topic name, and one listed twice",
    text: withConsumer("    outputs: [enriched, 'no/slash', enriched]"),
    expect: [
      { path: "consumers[0].outputs[1]", line: 8, message: "expected a Kafka topic name" },
      {
        path: "consumers[0].outputs[2]",
        line: 8,
        message: 'expected each output topic once, found "enriched" twice',
      },
    ],
  },
  {
    name: "outputs not a list",
    text: withConsumer("    outputs: enriched"),
    expect: [{ path: "consumers[0].outputs", line: 8, message: "expected" }],
  },
  {
    name: "an unknown group protocol",
    text: withConsumer("    groupProtocol: eager"),
    expect: [{ path: "consumers[0].groupProtocol", line: 8, message: 'found "eager"' }],
  },
  {
    name: "ordering not one of partition, key, none",
    text: withConsumer("    ordering: keys"),
    expect: [{
      path: "consumers[0].ordering",
      line: 8,
      message: 'expected one of "partition", "key", "none", found "keys" (did you mean "key"?)',
    }],
  },
  {
    name: "concurrency above 256 with ordering partition",
    text: withConsumer("    concurrency: 300"),
    expect: [{
      path: "consumers[0].concurrency",
      line: 8,
      message: "expected at most 256 with ordering: partition (one call per partition), found 300",
    }],
  },
  {
    name: "maxBuffered below concurrency with ordering key",
    text: withConsumer("    ordering: key", "    concurrency: 64", "    maxBuffered: 10"),
    expect: [{
      path: "consumers[0].maxBuffered",
      line: 10,
      message: "expected maxBuffered >= concurrency (64), found 10",
    }],
  },
  {
    name: "maxBuffered below the default concurrency of ordering none",
    text: withConsumer("    ordering: none", "    maxBuffered: 4"),
    expect: [{
      path: "consumers[0].maxBuffered",
      line: 9,
      message: "expected maxBuffered >= concurrency (16), found 4",
    }],
  },
  {
    name: "every problem is reported at once, in file order",
    text: yaml(
      "kafka:",
      "  brokers: localhost",
      "consumers:",
      "  - name: audit",
      "    group: g",
      "    topic: orders",
      "    handler: ./handlers/missing.ts",
      "    autoOffsetReset: newest",
      "    colour: blue",
    ),
    expect: [
      { path: "kafka.brokers", line: 2, message: "the port is missing" },
      { path: "consumers[0].handler", line: 7, message: "handler file not found" },
      { path: "consumers[0].autoOffsetReset", line: 8, message: 'found "newest"' },
      { path: "consumers[0].colour", line: 9, message: 'unknown key "colour"' },
    ],
  },
];

Deno.test("loadConfigFile() rejects each bad configuration with positioned issues", async (t) => {
  assert(CASES.length >= 30, `only ${CASES.length} cases`);
  const workspace = await makeWorkspace();
  try {
    for (const [index, bad] of CASES.entries()) {
      await t.step(bad.name, async () => {
        const file = join(workspace.dir, `bad-${index}.yaml`);
        await writeFile(file, bad.text);
        const started = performance.now();
        const issues = await issuesOf(() => loadConfigFile(file, { env: bad.env ?? {} }));
        const elapsed = performance.now() - started;
        assertIssues(issues, bad.expect);
        for (const issue of issues) assert.equal(issue.file, file);
        if (bad.bounded) assert(elapsed < HANG_MS, `took ${elapsed.toFixed(0)} ms`);
      });
    }
  } finally {
    await workspace.remove();
  }
});

Deno.test("analyzeConfig() resolves each handler's consumer and kafka: where they are valid, even in a file with problems", () => {
  const analysis = analyzeConfig(
    yaml(
      "kafka: { brokers: 'k:9092' }",
      "consumers:",
      "  - { name: ok, group: g, topic: t, handler: ./a.ts, permissions: { read: [./lib.ts] } }",
      "  - { name: bad, group: g, topic: t, handler: ./b.ts, replicas: two }",
    ),
    { file: "/srv/consumers.yaml", env: {} },
  );
  assert.equal(analysis.config, undefined);
  assert.deepEqual(analysis.kafka?.brokers, ["k:9092"]);
  const [ok, bad] = analysis.handlers;
  assert.equal(ok?.consumer?.name, "ok");
  assert.deepEqual(ok?.consumer?.permissions.read, ["/srv/lib.ts"], "paths resolved");
  assert.equal(bad?.path, "/srv/b.ts");
  assert.equal(bad?.consumer, undefined);
  const unset = analyzeConfig(
    yaml(
      "kafka: { brokers: 'k:9092', sasl: { mechanism: plain, username: u, password: '${NOPE}' } }",
      "consumers:",
      "  - { name: ok, group: g, topic: t, handler: ./a.ts, permissions: { env: ['${NOPE2}'] } }",
    ),
    { file: "/srv/consumers.yaml", env: {} },
  );
  assert.equal(unset.kafka, undefined, "a kafka: whose variable is missing is not known");
  assert.equal(unset.handlers[0]?.consumer, undefined, "nor a consumer whose variable is missing");
});

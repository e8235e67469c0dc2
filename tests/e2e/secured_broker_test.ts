/**
 * The daemon against the test broker's SASL_SSL listener (TLS with the broker's own CA, then
 * SCRAM-SHA-512), on each runtime with both engines in one daemon: it consumes and commits; a
 * wrong password or a wrong CA is said in the operator's terms, once, while the worker keeps
 * retrying and is never restarted; the password appears nowhere.
 */
import assert from "node:assert/strict";
import {
  type DaemonProcess,
  type DaemonRuntime,
  fixtureHandler,
  RUNTIMES,
  startDaemon,
  writeConfig,
} from "../harness/daemon.ts";
import { getStatus, startHttpDaemon } from "../harness/http.ts";
import { produceNumbered, uniqueName, waitFor, withTopic } from "../harness/kafka.ts";
import { freePort, startProxy } from "../harness/proxy.ts";
import { securedKafka, UNRELATED_CA } from "../harness/secured_kafka.ts";
import type { KafkaConfig } from "../../src/config/types.ts";

const ENGINES = ["kafkajs", "platformatic"] as const;

/** The `kafka:` section for `kafka`, its password read from `SASL_PASSWORD` as a user would. */
function kafkaSection(kafka: KafkaConfig, brokers = kafka.brokers): Record<string, unknown> {
  return {
    brokers,
    ssl: kafka.ssl,
    sasl: kafka.sasl === null ? null : { ...kafka.sasl, password: "${SASL_PASSWORD}" },
  };
}

/** One consumer per engine on `topic`, each in its own group. */
function consumerPerEngine(topic: string): Array<Record<string, unknown>> {
  return ENGINES.map((engine) => ({
    name: engine,
    engine,
    group: uniqueName(`g-${engine}`),
    topic,
    handler: fixtureHandler("record.ts"),
    commit: { mode: "auto", intervalMs: 200 },
  }));
}

/** Every line the daemon wrote that holds `secret`. */
function linesWith(daemon: DaemonProcess, secret: string): string[] {
  return daemon.stderr.filter((line) => line.includes(secret));
}

for (const runtime of RUNTIMES) {
  Deno.test(`daemon on ${runtime} consumes and commits over SASL_SSL with SCRAM-SHA-512, on both engines`, async () => {
    await withTopic({ partitions: 2, prefix: "secured" }, async ({ topic, admin }) => {
      await produceNumbered(admin, topic, { count: 20, partitions: 2 });
      const kafka = await securedKafka({ mechanism: "scram-sha-512" });
      const consumers = consumerPerEngine(topic);
      const config = await writeConfig({
        kafka: kafkaSection(kafka),
        http: { listen: false },
        consumers,
      });
      const password = kafka.sasl!.password;
      const daemon = startDaemon(config, { runtime, env: { SASL_PASSWORD: password } });
      try {
        for (const engine of ENGINES) {
          await waitFor(
            () => daemon.logged("handled").filter((r) => r.consumer === engine).length >= 20,
            { timeoutMs: 60_000, what: `20 messages handled by the ${engine} consumer` },
          );
        }
        const high = (await admin.watermarks(topic)).map((w) => [w.partition, w.high]);
        for (const { group, name } of consumers) {
          await waitFor(async () => {
            const committed = await admin.committed(String(group), topic);
            return JSON.stringify(committed.map((c) => [c.partition, c.offset])) ===
              JSON.stringify(high);
          }, { what: `the ${name} consumer's offsets committed at the high watermarks` });
        }
        const handled = daemon.logged("handled");
        assert.equal(handled.length, 40, "each message once per consumer");
      } finally {
        assert.equal(await daemon.stop(), 0, "drained and exited 0");
      }
      assert.deepEqual(linesWith(daemon, password), [], "the password in no log line");
    });
  });
}

/**
 * Starts a daemon whose brokers are `kafka`'s through a counting TCP proxy, and checks that both
 * consumers wait with `expected` (and "; retrying") as their reason, said once each, while their workers keep
 * connecting (more connections reach the proxy) and are never restarted.
 */
async function assertFaultReported(
  runtime: DaemonRuntime,
  kafka: KafkaConfig,
  expected: string,
): Promise<void> {
  const [target] = kafka.brokers;
  const proxy = startProxy(freePort(), target!);
  const brokers = `127.0.0.1:${proxy.port}`;
  const reason = `${expected}; retrying`;
  const password = kafka.sasl?.password ?? "no password";
  const { daemon, url } = await startHttpDaemon(consumerPerEngine("orders"), {
    runtime,
    kafka: kafkaSection(kafka, [brokers]),
    env: { SASL_PASSWORD: password },
  });
  try {
    let seen: Array<[string, string, string | null, number]> = [];
    await waitFor(async () => {
      seen = (await getStatus(url)).consumers.map((c) => [c.name, c.state, c.reason, c.restarts]);
      return seen.every(([, state, why]) => state === "waiting" && why === reason);
    }, { timeoutMs: 60_000, what: `both consumers waiting: ${reason}` }).catch((error) => {
      throw new Error(`${error.message}\nconsumers: ${JSON.stringify(seen)}`);
    });
    const connections = proxy.accepted;
    await waitFor(() => proxy.accepted >= connections + 4, {
      timeoutMs: 30_000,
      what: "the workers connecting again",
    });
    const status = await getStatus(url);
    for (const consumer of status.consumers) {
      assert.equal(consumer.state, "waiting", `${consumer.name} still waiting`);
      assert.equal(consumer.reason, reason);
      assert.equal(consumer.restarts, 0, `${consumer.name}'s worker was never restarted`);
    }
    const said = daemon.records.filter((r) => r.msg === reason);
    assert.deepEqual(
      said.map((r) => r.consumer).sort(),
      [...ENGINES],
      "said once per consumer, not per attempt",
    );
    assert.deepEqual(
      daemon.records.filter((r) => r.level === "error" && r.msg !== reason).map((r) => r.msg),
      [],
      "no other errors (no crash, no restart)",
    );
    assert.deepEqual(
      daemon.records.filter((r) => String(r.msg).startsWith("kafkajs:")).map((r) => r.msg),
      [],
      "no client warnings per attempt",
    );
    assert.ok(!JSON.stringify(status).includes(password), "the password not in /status");
  } finally {
    assert.equal(await daemon.stop(), 0);
    proxy.close();
  }
  assert.deepEqual(linesWith(daemon, password), [], "the password in no log line");
}

Deno.test("a wrong SCRAM-SHA-512 password is said as such on both engines, and the workers keep retrying without a restart", async () => {
  const kafka = await securedKafka({ mechanism: "scram-sha-512", password: "wrong-Pa55word" });
  await assertFaultReported(
    "deno",
    kafka,
    "authentication failed for user `consumerd` with SCRAM-SHA-512 — check kafka.sasl",
  );
});

Deno.test("a wrong CA is a TLS problem with kafka.ssl.ca on both engines, not unreachable brokers", async () => {
  const kafka = await securedKafka({ ca: await Deno.readTextFile(UNRELATED_CA) });
  await assertFaultReported(
    "bun",
    kafka,
    "TLS: self-signed certificate in chain — check kafka.ssl.ca",
  );
});

// /readyz and the consumer's state in the operator's terms, polled while
// the daemon starts: ready only once the assignment is held with its start
// positions committed; a handler that throws on import, a missing topic and
// unreachable brokers show as the consumer's state and reason.
import assert from "node:assert/strict";
import type { ReadinessBody } from "../../src/http/status_body.ts";
import { fixtureHandler } from "../harness/daemon.ts";
import { freePort, getJson, getStatus, startHttpDaemon } from "../harness/http.ts";
import { uniqueName, waitFor, withTopic } from "../harness/kafka.ts";

/** The 1-based line of `needle` in the daemon's config file. */
async function lineOf(configPath: string, needle: string): Promise<number> {
  const lines = (await Deno.readTextFile(configPath)).split("\n");
  const index = lines.findIndex((l) => l.includes(needle));
  assert.ok(index >= 0, `${needle} in the config`);
  return index + 1;
}

Deno.test("/readyz is 503 during start-up and turns 200 only once the assignment's start positions are committed", async () => {
  await withTopic({ partitions: 3 }, async ({ topic, admin }) => {
    const group = uniqueName("g");
    const { daemon, url } = await startHttpDaemon([{
      name: "orders",
      group,
      topic,
      replicas: 2,
      handler: fixtureHandler("quiet.ts"),
    }]);
    try {
      const seen: number[] = [];
      let first200: ReadinessBody | null = null;
      const deadline = Date.now() + 60_000;
      while (Date.now() < deadline) {
        const { status, body } = await getJson<ReadinessBody>(url, "readyz");
        seen.push(status);
        if (status === 200) {
          first200 = body;
          break;
        }
        assert.equal(status, 503);
        assert.equal(body.ready, false);
        assert.equal(body.notReady[0]?.consumer, "orders", "says which consumer");
        assert.ok(body.notReady[0]!.reason.length > 0, "and why");
        await new Promise((r) => setTimeout(r, 25));
      }
      assert.ok(first200 !== null, `/readyz never turned 200: ${seen.length} polls`);
      assert.ok(seen[0] === 503, "503 before the assignment");
      // At the first 200: every partition has a committed start position in Kafka.
      const committed = await admin.committed(group, topic);
      assert.deepEqual(
        committed.map((c) => [c.partition, c.offset !== null]),
        [[0, true], [1, true], [2, true]],
        "start positions committed when ready",
      );
      const status = await getStatus(url);
      assert.equal(status.consumers[0]!.state, "running");
      assert.equal(status.consumers[0]!.partitions.length, 3, "both replicas' partitions held");
    } finally {
      assert.equal(await daemon.stop(), 0);
    }
  });
});

Deno.test("a handler that throws on import keeps its consumer visibly failed, and a missing topic says so once, with the config line", async () => {
  await withTopic({ partitions: 1 }, async ({ topic }) => {
    const missing = uniqueName("missing");
    const { daemon, url } = await startHttpDaemon([{
      name: "broken",
      group: uniqueName("g"),
      topic,
      handler: fixtureHandler("throws_on_import.ts"),
    }, {
      name: "early",
      group: uniqueName("g"),
      topic: missing,
      handler: fixtureHandler("quiet.ts"),
    }]);
    try {
      const configPath = String((await daemon.waitForLog("starting")).config);
      const topicLine = await lineOf(configPath, `topic: ${missing}`);
      const handlerLine = await lineOf(configPath, "throws_on_import.ts");
      const file = configPath.split("/").at(-1);
      // Polled during start-up: never ready, and the reasons arrive (in full in /status;
      // /readyz, open to anyone who can connect, gives reason codes).
      const consumers = await waitFor(async () => {
        const { status, body } = await getJson<ReadinessBody>(url, "readyz");
        assert.equal(status, 503, "never ready while a consumer fails");
        const broken = body.notReady.find((n) => n.consumer === "broken");
        const early = body.notReady.find((n) => n.consumer === "early");
        if (!broken || !["failed", "failing"].includes(broken.state)) return null;
        if (early?.reason !== "waiting-for-kafka") return null;
        const { consumers } = await getStatus(url);
        const failed = consumers.find((c) => c.name === "broken")!;
        return ["failed", "failing"].includes(failed.state) ? consumers : null;
      }, { timeoutMs: 60_000, what: "failed and waiting consumers in /readyz and /status" });
      const broken = consumers.find((c) => c.name === "broken")!;
      assert.match(broken.reason ?? "", /boom while loading the handler/);
      assert.ok(
        broken.reason?.includes(`(${file}:${handlerLine})`),
        `names the handler's line: ${broken.reason}`,
      );
      const early = consumers.find((c) => c.name === "early")!;
      assert.equal(
        early.reason,
        `topic \`${missing}\` does not exist (${file}:${topicLine}); waiting for it`,
      );
      assert.match(broken.lastError ?? "", /boom while loading the handler/);
      // Still failed (or failing) after its restarts: never silently fine.
      await new Promise((r) => setTimeout(r, 3000));
      const later = (await getStatus(url)).consumers.find((c) => c.name === "broken")!;
      assert.ok(["failed", "failing", "starting"].includes(later.state), later.state);
      assert.equal((await getJson(url, "readyz")).status, 503);
      // The missing topic was logged once (it repeats only every minute).
      const said = daemon.records.filter((r) => String(r.msg).startsWith(`topic \`${missing}\``));
      assert.equal(said.length, 1, "logged once");
      assert.equal(
        daemon.records.filter((r) => String(r.msg).includes("does not host this topic")).length,
        0,
        "no client protocol wording in the log",
      );
    } finally {
      await daemon.stop();
    }
  });
});

Deno.test("unreachable brokers show as the consumer's state: cannot reach brokers …: connection refused", async () => {
  const brokers = [`127.0.0.1:${freePort()}`];
  const { daemon, url } = await startHttpDaemon([{
    name: "orders",
    group: uniqueName("g"),
    topic: "orders",
    handler: fixtureHandler("quiet.ts"),
  }], { brokers });
  try {
    const consumer = await waitFor(async () => {
      const { status, body } = await getJson<ReadinessBody>(url, "readyz");
      assert.equal(status, 503);
      if (body.notReady[0]?.reason !== "waiting-for-kafka") return null;
      const [consumer] = (await getStatus(url)).consumers;
      return consumer?.state === "waiting" ? consumer : null;
    }, { timeoutMs: 60_000, what: "a waiting consumer" });
    assert.equal(
      consumer.reason,
      `cannot reach brokers ${brokers[0]}: connection refused; retrying`,
    );
    await new Promise((r) => setTimeout(r, 4000));
    const said = daemon.records.filter((r) => String(r.msg).startsWith("cannot reach brokers"));
    assert.equal(said.length, 1, "said once, not per attempt");
    const warnings = daemon.records.filter((r) => String(r.msg).startsWith("kafkajs:"));
    assert.deepEqual(warnings.map((r) => r.msg), [], "no client warnings per attempt");
    assert.equal((await getJson(url, "healthz")).status, 200, "the supervisor itself is alive");
  } finally {
    await daemon.stop();
  }
});

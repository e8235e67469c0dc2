/**
 * A consumer whose every partition is paused — a poison message without a
 * dead-letter topic — says so: state `stalled` with the reason and the paused partitions, and
 * metrics of them; it stays stalled across its retries (no flapping back
 * to `running` between them); a reload that adds a dead-letter topic
 * brings it back to `running`.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import {
  getJson,
  getMetrics,
  getStatus,
  reloadConsumers,
  samples,
  startHttpDaemon,
} from "../harness/http.ts";
import { uniqueName, waitFor, withTopic } from "../harness/kafka.ts";

const HANDLER = `export default function handle(message, ctx) {
  if (message.text() === "poison") throw new Error("cannot price a poison order");
  ctx.log.info("handled", { offset: message.offset, value: message.text() });
}
`;

Deno.test("every partition paused → stalled, with the reason and a metric; a dead-letter topic added by reload → running", async () => {
  await withTopic({ partitions: 1, prefix: "stalled" }, async ({ topic, admin }) => {
    const dlq = `${topic}.dlq`;
    await admin.ensureTopic(dlq, { partitions: 1 });
    const dir = await Deno.makeTempDir({ prefix: "consumerd-stalled-" });
    await Deno.writeTextFile(join(dir, "handler.js"), HANDLER);
    await admin.produce(topic, ["ok-0", "poison", "ok-2"].map((value) => ({ value })));
    const consumer = {
      name: "orders",
      group: uniqueName("stalled"),
      topic,
      handler: join(dir, "handler.js"),
      // Tried again every 300 ms: each retry must not read as running.
      retry: { attempts: 1, backoffMs: 0, maxBackoffMs: 300 },
    };
    const started = await startHttpDaemon([consumer]);
    const { daemon, url } = started;
    const orders = async () => (await getStatus(url)).consumers[0]!;
    try {
      const stalled = await waitFor(async () => {
        const c = await orders();
        return c.state === "stalled" ? c : null;
      }, { timeoutMs: 60_000, what: "the consumer stalled" });
      assert.deepEqual(stalled.paused.map((p) => p.partition), [0]);
      assert.match(
        String(stalled.reason),
        /^every partition it holds is paused — 0: handler failed after retries: cannot price a poison order$/,
      );
      // It holds its partition: ready (it needs a person, not a restart); the metrics say why.
      assert.equal(stalled.ready, true);
      const readyz = await getJson<{ ready: boolean; stalled: string[] }>(url, "readyz");
      assert.deepEqual([readyz.status, readyz.body.stalled], [200, ["orders"]]);
      const metrics = await getMetrics(url);
      assert.deepEqual(samples(metrics, "consumerd_paused_partitions").map((s) => s.value), ["1"]);
      assert.deepEqual(samples(metrics, "consumerd_consumer_stalled").map((s) => s.value), ["1"]);

      // Across several retries, it never reads as running.
      const seen = new Set<string>();
      for (let i = 0; i < 15; i++) {
        seen.add((await orders()).state);
        await new Promise((r) => setTimeout(r, 100));
      }
      assert.deepEqual([...seen], ["stalled"]);
      assert.deepEqual(daemon.handled().map((h) => h.value), ["ok-0"]);

      const { status, outcome } = await reloadConsumers(started, [
        { ...consumer, deadLetterTopic: dlq },
      ]);
      assert.equal(status, 200, JSON.stringify(outcome));
      const running = await waitFor(async () => {
        const c = await orders();
        return c.state === "running" && daemon.handled().some((h) => h.value === "ok-2") ? c : null;
      }, { what: "running again, past the poison message" });
      assert.deepEqual(running.paused, []);
      assert.deepEqual(
        samples(await getMetrics(url), "consumerd_paused_partitions").map((s) => s.value),
        ["0"],
      );
      const [dead] = await admin.watermarks(dlq);
      assert.equal(dead?.high, "1", "the poison message is in the dead-letter topic");
    } finally {
      assert.equal(await daemon.stop(), 0);
      await admin.deleteTopics([dlq]);
      await Deno.remove(dir, { recursive: true });
    }
  });
});

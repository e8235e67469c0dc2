// A partition that moves to another daemon leaves no stale series behind:
// /metrics and /status of the daemon that lost it stop showing it.
import assert from "node:assert/strict";
import { fixtureHandler, startDaemon, writeConsumersConfig } from "../harness/daemon.ts";
import { getMetrics, getStatus, samples, startHttpDaemon } from "../harness/http.ts";
import { produceNumbered, uniqueName, waitFor, withTopic } from "../harness/kafka.ts";

Deno.test("a revoked partition's series disappear from /metrics and /status", async () => {
  await withTopic({ partitions: 2 }, async ({ topic, admin }) => {
    const group = uniqueName("g");
    await produceNumbered(admin, topic, { count: 20, partitions: 2 });
    const consumer = {
      name: "orders",
      group,
      topic,
      handler: fixtureHandler("quiet.ts"),
      commit: { mode: "auto", intervalMs: 200 },
    };
    const { daemon, url } = await startHttpDaemon([consumer]);
    const partitionsIn = async () =>
      samples(await getMetrics(url), "consumerd_committed_offset").map((s) => s.labels.partition)
        .sort();
    let other = null;
    try {
      await waitFor(async () => (await partitionsIn()).length === 2, {
        timeoutMs: 60_000,
        what: "both partitions in /metrics",
      });
      // A second daemon joins the group: one partition moves to it.
      other = startDaemon(await writeConsumersConfig([consumer]));
      const kept = await waitFor(async () => {
        const held = await partitionsIn();
        return held.length === 1 ? held : null;
      }, { timeoutMs: 60_000, what: "one partition left after the rebalance" });
      const text = await getMetrics(url);
      for (const name of ["consumerd_high_watermark", "consumerd_lag"]) {
        assert.deepEqual(samples(text, name).map((s) => s.labels.partition), kept, name);
      }
      const status = await getStatus(url);
      assert.deepEqual(status.consumers[0]!.partitions.map((p) => String(p.partition)), kept);
      await waitFor(
        async () =>
          Number(samples(await getMetrics(url), "consumerd_rebalances_total")[0]?.value) >= 2,
        {
          timeoutMs: 10_000,
          what: "the rebalance counted (stats arrive with the next report)",
        },
      );
    } finally {
      if (other !== null) assert.equal(await other.stop(), 0);
      assert.equal(await daemon.stop(), 0);
    }
  });
});

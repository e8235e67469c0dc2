// /metrics checked by Prometheus's own tools: `promtool check metrics`
// parses and lints the exposition, and a real Prometheus server scrapes the
// daemon and answers a PromQL query for the consumer's lag.
import assert from "node:assert/strict";
import { join } from "node:path";
import { fixtureHandler } from "../harness/daemon.ts";
import {
  assertPromtoolAccepts,
  freePort,
  getMetrics,
  requireProgram,
  samples,
  startHttpDaemon,
} from "../harness/http.ts";
import { produceNumbered, uniqueName, waitFor, withTopic } from "../harness/kafka.ts";

Deno.test("/metrics passes promtool check metrics, and a Prometheus server scrapes it and answers a lag query", async () => {
  const prometheus = await requireProgram("prometheus", "prometheus");
  await withTopic({ partitions: 2 }, async ({ topic, admin }) => {
    await produceNumbered(admin, topic, { count: 200, partitions: 2 });
    const { daemon, url } = await startHttpDaemon([{
      name: "billing",
      group: uniqueName("g"),
      topic,
      handler: fixtureHandler("quiet.ts"),
      commit: { mode: "auto", intervalMs: 200 },
    }, {
      // ordering: key adds calls in flight, buffered messages, paused keys and more.
      name: "keyed",
      group: uniqueName("g"),
      topic,
      handler: fixtureHandler("quiet.ts"),
      ordering: "key",
      commit: { mode: "auto", intervalMs: 200 },
    }, {
      // A second consumer that never gets going: its families must still be valid.
      name: "broken",
      group: uniqueName("g"),
      topic,
      handler: fixtureHandler("throws_on_import.ts"),
    }]);
    const dir = await Deno.makeTempDir({ prefix: "consumerd-prometheus-" });
    let server: Deno.ChildProcess | null = null;
    try {
      const text = await waitFor(async () => {
        const t = await getMetrics(url);
        return samples(t, "consumerd_lag").length === 4 &&
            samples(t, "consumerd_calls_in_flight").length === 1
          ? t
          : null;
      }, { timeoutMs: 60_000, what: "lag series for both partitions of both consumers" });
      for (const family of ["consumerd_messages_buffered", "consumerd_paused_keys"]) {
        assert.deepEqual(samples(text, family).map((s) => s.labels.consumer), ["keyed"], family);
      }

      await assertPromtoolAccepts(text);

      // A real Prometheus server, scraping every second.
      const target = new URL(url);
      const port = freePort();
      await Deno.writeTextFile(
        join(dir, "prometheus.yml"),
        [
          "global: { scrape_interval: 1s, evaluation_interval: 1s }",
          "scrape_configs:",
          "  - job_name: consumerd",
          "    metrics_path: /metrics",
          `    static_configs: [{ targets: ["${target.host}"] }]`,
          "",
        ].join("\n"),
      );
      server = new Deno.Command(prometheus, {
        args: [
          `--config.file=${join(dir, "prometheus.yml")}`,
          `--storage.tsdb.path=${join(dir, "data")}`,
          `--web.listen-address=127.0.0.1:${port}`,
        ],
        stdout: "null",
        stderr: "null",
      }).spawn();
      const api = `http://127.0.0.1:${port}/api/v1/`;
      const query = async (q: string) => {
        const r = await fetch(`${api}query?query=${encodeURIComponent(q)}`).catch(() => null);
        if (r === null || !r.ok) return null;
        const body = await r.json();
        return body.status === "success"
          ? body.data.result as Array<Record<string, unknown>>
          : null;
      };
      const up = await waitFor(async () => {
        const r = await query('up{job="consumerd"}');
        return r && r.length === 1 && (r[0]!.value as string[])[1] === "1" ? r : null;
      }, { timeoutMs: 60_000, intervalMs: 500, what: "Prometheus to scrape the daemon (up == 1)" });
      assert.equal(up.length, 1);
      const lag = await waitFor(async () => {
        const r = await query('sum by (consumer) (consumerd_lag{consumer="billing"})');
        return r && r.length === 1 ? r : null;
      }, { timeoutMs: 30_000, intervalMs: 500, what: "a PromQL answer for billing's lag" });
      assert.equal((lag[0]!.metric as Record<string, string>).consumer, "billing");
      const value = Number((lag[0]!.value as string[])[1]);
      assert.ok(Number.isInteger(value) && value >= 0, `lag is a count: ${value}`);
      // The scraped histogram is usable too.
      const calls = await waitFor(async () => {
        const r = await query('consumerd_handler_duration_seconds_count{consumer="billing"}');
        return r && r.length === 1 && Number((r[0]!.value as string[])[1]) >= 200 ? r : null;
      }, { timeoutMs: 30_000, intervalMs: 500, what: "200 handler calls in Prometheus" });
      assert.ok(calls.length === 1);
    } finally {
      if (server !== null) {
        server.kill("SIGTERM");
        await server.status;
      }
      await daemon.stop();
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
  });
});

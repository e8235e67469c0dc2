// The status server of a daemon running as a process, on Deno and on Bun:
// /status and /metrics against the broker's own numbers, and requests that
// must not hurt it (unknown paths, wrong methods, huge bodies, slow clients,
// 1,000 concurrent requests) while it keeps consuming.
import assert from "node:assert/strict";
import { fixtureHandler } from "../harness/daemon.ts";
import { getMetrics, getStatus, samples, startHttpDaemon } from "../harness/http.ts";
import {
  committedByKafkaTool,
  produceNumbered,
  steadyLoad,
  uniqueName,
  waitFor,
  withTopic,
} from "../harness/kafka.ts";

for (const runtime of ["deno", "bun"] as const) {
  Deno.test(`on ${runtime}: /status and /metrics while consuming agree with the broker once the stream stops`, async () => {
    await withTopic({ partitions: 3 }, async ({ topic, admin }) => {
      const group = uniqueName("g");
      await produceNumbered(admin, topic, { count: 300, partitions: 3 });
      const { daemon, url } = await startHttpDaemon([{
        name: "orders",
        group,
        topic,
        handler: fixtureHandler("quiet.ts"),
        commit: { mode: "auto", intervalMs: 200 },
      }], { runtime });
      const load = steadyLoad(admin, topic, { batch: 20, intervalMs: 100 });
      let stopped = false;
      try {
        // Read both while the stream runs: well-formed, offsets as decimal strings.
        const during = await waitFor(async () => {
          const s = await getStatus(url);
          const parts = s.consumers[0]?.partitions ?? [];
          return parts.length === 3 && parts.every((p) => p.lag !== null) ? s : null;
        }, { timeoutMs: 60_000, what: "three partitions with a lag in /status" });
        const c = during.consumers[0]!;
        assert.equal(c.name, "orders");
        for (const p of c.partitions) {
          for (const v of [p.committed, p.highWatermark, p.lag]) {
            if (v !== null) assert.match(v, /^\d+$/, "offsets are decimal strings");
          }
        }
        const metricsDuring = await getMetrics(url);
        assert.ok(samples(metricsDuring, "consumerd_lag").length > 0, "lag series while consuming");
        await new Promise((r) => setTimeout(r, 2000));
        stopped = true;
        const sent = 300 + await load.stop();

        const marks = await admin.watermarks(topic);
        assert.equal(marks.reduce((n, w) => n + Number(w.high), 0), sent);
        const high = new Map(marks.map((w) => [w.partition, w.high]));
        const settled = await waitFor(async () => {
          const s = await getStatus(url);
          const parts = s.consumers[0]!.partitions;
          return parts.length === 3 &&
              parts.every((p) =>
                p.committed === high.get(p.partition) && p.lag === "0" &&
                p.highWatermark === high.get(p.partition)
              )
            ? s
            : null;
        }, { timeoutMs: 60_000, what: "/status committed = high watermark on every partition" });

        // The broker's own numbers: Kafka's consumer-groups tool and the admin API.
        const byTool = await committedByKafkaTool(group, topic);
        for (const p of settled.consumers[0]!.partitions) {
          assert.equal(p.committed, byTool.get(p.partition), `partition ${p.partition} committed`);
          assert.equal(p.highWatermark, high.get(p.partition), `partition ${p.partition} HW`);
        }
        assert.equal(settled.consumers[0]!.processed, sent, "processed = every message once");
        assert.equal(settled.consumers[0]!.state, "running");

        const text = await getMetrics(url);
        for (
          const [name, expected] of [
            ["consumerd_committed_offset", byTool],
            ["consumerd_high_watermark", high],
          ] as const
        ) {
          const series = samples(text, name).filter((s) => s.labels.consumer === "orders");
          assert.equal(series.length, 3, `${name}: one series per partition`);
          for (const s of series) {
            assert.equal(
              s.value,
              expected.get(Number(s.labels.partition)),
              `${name} ${s.labels.partition}`,
            );
            assert.equal(s.labels.topic, topic);
            assert.equal(s.labels.group, group);
          }
        }
        assert.deepEqual(
          samples(text, "consumerd_lag").map((s) => s.value),
          ["0", "0", "0"],
        );
        assert.equal(
          samples(text, "consumerd_messages_processed_total")[0]?.value,
          String(sent),
        );
        assert.equal(
          samples(text, "consumerd_handler_duration_seconds_count")[0]?.value,
          String(sent),
          "one handler call per message",
        );
        assert.equal(samples(text, "consumerd_worker_up")[0]?.value, "1");
      } finally {
        if (!stopped) await load.stop().catch(() => {});
        assert.equal(await daemon.stop(), 0, "the daemon exits 0 on SIGTERM");
      }
    });
  });

  Deno.test(`on ${runtime}: bad, huge, slow and many requests get the right answers and consumption goes on`, async () => {
    await withTopic({ partitions: 3 }, async ({ topic, admin }) => {
      const { daemon, url } = await startHttpDaemon([{
        name: "orders",
        group: uniqueName("g"),
        topic,
        handler: fixtureHandler("quiet.ts"),
      }], { runtime });
      const load = steadyLoad(admin, topic, { batch: 10, intervalMs: 100 });
      const processed = async () => (await getStatus(url)).consumers[0]!.processed;
      const slow: Deno.Conn[] = [];
      try {
        await waitFor(async () => (await processed()) > 0, {
          timeoutMs: 60_000,
          what: "consuming",
        });
        const before = await processed();

        // Slow clients that never finish: headers cut off, and a body that never arrives.
        const port = Number(new URL(url).port);
        for (
          const partial of [
            "GET /status HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ",
            "POST /reload HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 1000\r\n\r\nabc",
          ]
        ) {
          const conn = await Deno.connect({ hostname: "127.0.0.1", port });
          await conn.write(new TextEncoder().encode(partial));
          slow.push(conn);
        }

        const unknown = await fetch(new URL("nope", url));
        assert.equal(unknown.status, 404);
        assert.match((await unknown.json()).error, /no such path: \/nope/);

        const wrong = await fetch(new URL("status", url), { method: "DELETE" });
        assert.equal(wrong.status, 405);
        assert.equal(wrong.headers.get("allow"), "GET, HEAD");
        await wrong.body?.cancel();

        // POST /reload with the file unchanged: validated, nothing applied.
        const reload = await fetch(new URL("reload", url), { method: "POST" });
        assert.equal(reload.status, 200);
        const outcome = await reload.json();
        assert.deepEqual([outcome.ok, outcome.applied, outcome.trigger], [true, false, "http"]);

        // 10 MB, announced by Content-Length, and streamed without one.
        assert.equal(await rawStatus(port, tenMegabyteRequest(true)), 413);
        const chunked = await fetch(new URL("reload", url), {
          method: "POST",
          body: new Blob([new Uint8Array(10 * 1024 * 1024)]).stream(),
        }).catch((error) => error as Error);
        if (chunked instanceof Response) {
          assert.equal(chunked.status, 413);
          await chunked.body?.cancel();
        } // A server may also close the connection on an oversized upload.

        // 1,000 concurrent /status requests.
        const answers = await Promise.all(
          Array.from({ length: 1000 }, async () => {
            const r = await fetch(new URL("status", url));
            await r.body?.cancel();
            return r.status;
          }),
        );
        assert.equal(answers.filter((s) => s === 200).length, 1000, "1,000 × 200");

        // Still consuming, and still answering, with the slow clients connected.
        await waitFor(async () => (await processed()) > before, {
          timeoutMs: 30_000,
          what: "the processed count to keep rising",
        });
        assert.equal((await fetch(new URL("healthz", url))).status, 200);
      } finally {
        await load.stop();
        // The slow clients are still connected: they must not hold the shutdown up.
        const code = await daemon.stop();
        for (const conn of slow) {
          try {
            conn.close();
          } catch { /* closed by the server */ }
        }
        assert.equal(code, 0, "the daemon exits 0 on SIGTERM");
      }
    });
  });
}

/** A POST of 10 MB with Content-Length (the bytes follow the headers). */
function tenMegabyteRequest(withLength: boolean): Uint8Array[] {
  const head = new TextEncoder().encode(
    "POST /reload HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n" +
      (withLength ? `Content-Length: ${10 * 1024 * 1024}\r\n` : "") + "\r\n",
  );
  return [head, ...Array.from({ length: 10 }, () => new Uint8Array(1024 * 1024))];
}

/** Sends raw request bytes (ignoring a server that stops reading) and returns the status code. */
async function rawStatus(port: number, parts: Uint8Array[]): Promise<number> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    const writing = (async () => {
      for (const part of parts) await conn.write(part);
    })().catch(() => {});
    const buffer = new Uint8Array(4096);
    let text = "";
    while (!/^HTTP\/1\.1 \d{3}/.test(text)) {
      const n = await conn.read(buffer);
      if (n === null) break;
      text += new TextDecoder().decode(buffer.subarray(0, n));
    }
    void writing;
    const match = /^HTTP\/1\.1 (\d{3})/.exec(text);
    if (!match) throw new Error(`no HTTP status line in ${JSON.stringify(text.slice(0, 200))}`);
    return Number(match[1]);
  } finally {
    try {
      conn.close();
    } catch { /* closed by the server */ }
  }
}

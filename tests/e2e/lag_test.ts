/**
 * Lag that tells the truth: partitions a worker holds but has not fetched
 * yet (a slow handler holds the one partition it handles at a time) still
 * show the broker's high watermark, so `/status`, `/metrics` and the
 * `status` command agree with `offsets` at every moment.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { formatStatus } from "../../src/cli/status.ts";
import { offsetsCommand, type OffsetsReport } from "../../src/cli/offsets.ts";
import { getMetrics, getStatus, samples, startHttpDaemon } from "../harness/http.ts";
import { TEST_KAFKA, uniqueName, waitFor, withTopic } from "../harness/kafka.ts";

/** Holds its first message until the worker stops: the other partitions wait their turn. */
const HOLDS = `export default async function handle(message, ctx) {
  ctx.log.info("holding", { partition: message.partition, offset: message.offset });
  await new Promise((resolve) => ctx.signal.addEventListener("abort", resolve, { once: true }));
  throw new Error("stopped");
}
`;

Deno.test("partitions not fetched yet show the broker's high watermark: /status lag equals offsets' lag", async () => {
  await withTopic({ partitions: 4, prefix: "lag" }, async ({ topic, admin }) => {
    const dir = await Deno.makeTempDir({ prefix: "consumerd-lag-" });
    await Deno.writeTextFile(join(dir, "holds.js"), HOLDS);
    await admin.produce(
      topic,
      Array.from({ length: 40 }, (_, i) => ({ value: `m-${i}`, partition: i % 4 })),
    );
    const group = uniqueName("lag");
    const { daemon, url } = await startHttpDaemon([{
      name: "slow",
      group,
      topic,
      handler: join(dir, "holds.js"),
      concurrency: 1,
    }]);
    try {
      await daemon.waitForLog("holding", { timeoutMs: 60_000 });
      const lines: string[] = [];
      await offsetsCommand({
        kafka: TEST_KAFKA,
        group,
        topic,
        json: true,
        out: (l) => lines.push(l),
      });
      const broker = (JSON.parse(lines.join("\n")) as OffsetsReport).partitions
        .map((p) => ({ partition: p.partition, highWatermark: p.highWatermark, lag: p.lag }));
      assert.deepEqual(
        broker.map((p) => p.lag),
        ["10", "10", "10", "10"],
        "nothing committed past",
      );

      // Within a few seconds of holding them, every partition shows what the broker says.
      const status = await waitFor(async () => {
        const slow = (await getStatus(url)).consumers[0]!;
        return slow.partitions.length === 4 && slow.partitions.every((p) => p.lag !== null)
          ? slow
          : null;
      }, { timeoutMs: 10_000, what: "every held partition's lag in /status" }).catch(async (e) => {
        throw new Error(`${e.message}\n${formatStatus(await getStatus(url))}`);
      });
      assert.deepEqual(
        status.partitions.map((p) => ({
          partition: p.partition,
          highWatermark: p.highWatermark,
          lag: p.lag,
        })),
        broker,
      );
      const metrics = await getMetrics(url);
      assert.deepEqual(
        samples(metrics, "consumerd_lag").map((s) => [s.labels.partition, s.value]).sort(),
        [["0", "10"], ["1", "10"], ["2", "10"], ["3", "10"]],
      );
      assert.match(formatStatus(await getStatus(url)), /^slow\s+running\s+all\s+0\s+40\s+40\s/m);
    } finally {
      assert.equal(await daemon.stop(), 0);
      await Deno.remove(dir, { recursive: true });
    }
  });
});

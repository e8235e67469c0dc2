import assert from "node:assert/strict";
import { fixtureHandler, startDaemon, writeConsumersConfig } from "../harness/daemon.ts";
import {
  committedByKafkaTool,
  produceNumbered,
  uniqueName,
  waitFor,
  withTopic,
} from "../harness/kafka.ts";

for (const runtime of ["deno", "bun"] as const) {
  Deno.test(`daemon on ${runtime} consumes 1,000 messages from 3 partitions and commits each partition's high watermark`, async () => {
    await withTopic({ partitions: 3 }, async ({ topic, admin }) => {
      const group = uniqueName("g");
      await produceNumbered(admin, topic, { count: 1000, partitions: 3 });
      const config = await writeConsumersConfig([{
        name: "c",
        group,
        topic,
        handler: fixtureHandler("record.ts"),
        commit: { mode: "auto", intervalMs: 200 },
      }]);
      const daemon = startDaemon(config, { runtime });
      try {
        await waitFor(() => daemon.logged("handled").length >= 1000, {
          timeoutMs: 60_000,
          what: "1,000 handled messages",
        });
        const handled = daemon.logged("handled");
        assert.equal(handled.length, 1000, "every message handled exactly once");
        assert.equal(new Set(handled.map((r) => r.value)).size, 1000);
        const watermarks = await admin.watermarks(topic);
        assert.deepEqual(watermarks.map((w) => w.high), ["334", "333", "333"]);
        // Committed offsets, read independently with Kafka's own tool.
        const expected = new Map(watermarks.map((w) => [w.partition, w.high]));
        await waitFor(async () => {
          const committed = await committedByKafkaTool(group, topic);
          return [...expected].every(([p, high]) => committed.get(p) === high);
        }, {
          timeoutMs: 30_000,
          intervalMs: 1000,
          what: "committed offsets equal to the high watermarks",
        });
      } finally {
        daemon.kill("SIGTERM");
        assert.equal(await daemon.exited(), 0, "the daemon exits 0 on SIGTERM");
      }
    });
  });
}

/**
 * The daemon's process stands still for longer than the heartbeat timeout
 * (SIGSTOP … SIGCONT: a paused VM or container, a starved host, a main
 * thread held by a long synchronous call) and then goes on. Its workers'
 * heartbeats of that time were never sent or sit unread in the supervisor's
 * queue: no healthy worker is restarted for them, and consuming goes on.
 */
import assert from "node:assert/strict";
import { fixtureHandler, startDaemon, writeConsumersConfig } from "../harness/daemon.ts";
import { produceNumbered, uniqueName, waitFor, withTopic } from "../harness/kafka.ts";

/** Longer than the supervisor's heartbeat timeout (10 s). */
const STOPPED_MS = 11_000;

Deno.test("a daemon stopped for longer than the heartbeat timeout restarts no worker when it goes on", async () => {
  await withTopic({ partitions: 1 }, async ({ topic, admin }) => {
    const config = await writeConsumersConfig([{
      name: "c",
      group: uniqueName("g"),
      topic,
      handler: fixtureHandler("record.ts"),
      autoOffsetReset: "earliest",
    }]);
    const daemon = startDaemon(config);
    try {
      await daemon.waitForLog("consumer started", { timeoutMs: 60_000 });
      Deno.kill(daemon.pid, "SIGSTOP");
      await new Promise((r) => setTimeout(r, STOPPED_MS));
      Deno.kill(daemon.pid, "SIGCONT");
      await produceNumbered(admin, topic, { count: 3, partitions: 1 });
      await waitFor(() => daemon.logged("handled").length >= 3, {
        timeoutMs: 20_000,
        what: "3 handled messages after the pause",
      });
      assert.deepEqual(daemon.logged("worker terminated"), []);
      assert.deepEqual(daemon.logged("worker restarting"), []);
      const [stood] = daemon.logged(
        "the supervisor's event loop stood still; workers get that time back",
      );
      assert.ok(Number(stood?.ms) >= STOPPED_MS - 1_000, `stood still ${stood?.ms} ms`);
    } finally {
      try {
        Deno.kill(daemon.pid, "SIGCONT");
      } catch { /* it exited */ }
      daemon.kill("SIGTERM");
      assert.equal(await daemon.exited(), 0, "the daemon exits 0 on SIGTERM");
    }
  });
});

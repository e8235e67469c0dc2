/**
 * Adversary (issue 20, heartbeat yield), the daemon as a process: a
 * synchronous 20 ms handler over 24 partitions with 40 messages each (0.8 s
 * of work per partition's batch, 19.2 s per fetch round) on the platformatic
 * engine. No batch is long enough to reach the event-loop turn, the round is
 * longer than the supervisor's 10 s heartbeat timeout: the worker is
 * restarted and messages are handled again.
 */
import assert from "node:assert/strict";
import { fixtureHandler, startDaemon, writeConsumersConfig } from "../harness/daemon.ts";
import { produceNumbered, uniqueName, waitFor, withTopic } from "../harness/kafka.ts";

const PARTITIONS = 24;
const PER_PARTITION = 40;
const MESSAGES = PARTITIONS * PER_PARTITION;

Deno.test(`adversary: daemon (platformatic, balanced): a synchronous 20 ms handler over ${PARTITIONS} partitions of ${PER_PARTITION} messages handles each once, no worker restarted`, async () => {
  await withTopic({ partitions: PARTITIONS }, async ({ topic, admin }) => {
    const group = uniqueName("g");
    await produceNumbered(admin, topic, { count: MESSAGES, partitions: PARTITIONS });
    const config = await writeConsumersConfig([{
      name: "c",
      group,
      topic,
      engine: "platformatic",
      handler: fixtureHandler("spin.ts"),
      permissions: { env: ["SPIN_MS", "COMMIT_EVERY"] },
    }]);
    const daemon = startDaemon(config, { env: { SPIN_MS: "20", COMMIT_EVERY: "0" } });
    try {
      await waitFor(
        () =>
          daemon.logged("handled").length >= MESSAGES ||
          daemon.logged("worker restarting").length > 0,
        { timeoutMs: 90_000, what: `${MESSAGES} handled messages or a restart` },
      );
      assert.deepEqual(
        daemon.logged("worker restarting").map((r) => r.reason),
        [],
        "no worker restarted",
      );
      const offsets = daemon.logged("handled").map((r) => `${r.partition}:${r.offset}`);
      assert.equal(new Set(offsets).size, offsets.length, "no message handled twice");
    } finally {
      daemon.kill("SIGTERM");
      await daemon.exited();
    }
  });
});

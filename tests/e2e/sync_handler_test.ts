/**
 * A per-message handler that never awaits (20 ms of synchronous work per
 * message) in manual commit mode, committing every 50 messages, the daemon
 * as a process on the real broker: the worker's event loop still turns
 * often enough that its heartbeats reach the supervisor (which restarts a
 * worker silent for 10 s) and the client's own timers run, so no worker is
 * restarted and every message is handled exactly once.
 *
 * The default suite runs the reported case (Deno, platformatic engine,
 * balanced) with 600 messages: 12 s of handler work in one batch, past the
 * heartbeat timeout. CONSUMERD_LONG_TESTS=1 runs the reported 1,000 on
 * every runtime, engine and mode, and a fetch round of 24 short batches
 * (0.8 s each, 19 s in all) on the platformatic engine; the default suite
 * proves that case in tests/integration/sync_handler_test.ts, where the
 * worker's heartbeats are timed directly.
 */
import assert from "node:assert/strict";
import type { Engine } from "../../src/config/types.ts";
import {
  type DaemonProcess,
  type DaemonRuntime,
  fixtureHandler,
  type LogRecord,
  RUNTIMES,
  startDaemon,
  writeConsumersConfig,
} from "../harness/daemon.ts";
import { ENGINES, produceNumbered, uniqueName, waitFor, withTopic } from "../harness/kafka.ts";

const LONG_RUN = Deno.env.get("CONSUMERD_LONG_TESTS") === "1";

for (const runtime of RUNTIMES) {
  for (const engine of ENGINES) {
    for (const mode of ["balanced", "simple"] as const) {
      const reported = runtime === "deno" && engine === "platformatic" && mode === "balanced";
      const messages = LONG_RUN ? 1000 : 600;
      Deno.test({
        name:
          `daemon on ${runtime} (${engine}, ${mode}): a synchronous 20 ms handler committing every 50 messages handles ${messages} messages once each, no worker restarted`,
        ignore: !LONG_RUN && !reported,
        fn: () => syncHandlerRun(runtime, engine, mode, messages),
      });
    }
  }
}

const PARTITIONS = 24;
const PER_PARTITION = 40;
Deno.test({
  name:
    `daemon (platformatic, balanced): a synchronous 20 ms handler over ${PARTITIONS} partitions of ${PER_PARTITION} messages (one fetch round of short batches, past the heartbeat timeout) handles each once, no worker restarted`,
  ignore: !LONG_RUN,
  fn: async () => {
    const messages = PARTITIONS * PER_PARTITION;
    await withTopic({ partitions: PARTITIONS }, async ({ topic, admin }) => {
      await produceNumbered(admin, topic, { count: messages, partitions: PARTITIONS });
      const config = await writeConsumersConfig([{
        name: "c",
        group: uniqueName("g"),
        topic,
        engine: "platformatic",
        handler: fixtureHandler("spin.ts"),
        permissions: { env: ["SPIN_MS", "COMMIT_EVERY"] },
      }]);
      const daemon = startDaemon(config, { env: { SPIN_MS: "20", COMMIT_EVERY: "0" } });
      try {
        const handled = await handledWithoutRestart(daemon, messages);
        const offsets = handled.map((r) => `${r.partition}:${r.offset}`);
        assert.equal(new Set(offsets).size, offsets.length, "no message handled twice");
      } finally {
        daemon.kill("SIGTERM");
        await daemon.exited();
      }
    });
  },
});

/** Waits for `messages` calls (or a restart); asserts no worker restarted; returns the calls. */
async function handledWithoutRestart(
  daemon: DaemonProcess,
  messages: number,
): Promise<LogRecord[]> {
  await waitFor(
    () =>
      daemon.logged("handled").length >= messages ||
      daemon.logged("worker restarting").length > 0,
    { timeoutMs: 90_000, what: `${messages} handled messages or a restart` },
  );
  assert.deepEqual(
    daemon.logged("worker restarting").map((r) => r.reason),
    [],
    "no worker restarted",
  );
  return daemon.logged("handled");
}

async function syncHandlerRun(
  runtime: DaemonRuntime,
  engine: Engine,
  mode: "balanced" | "simple",
  messages: number,
): Promise<void> {
  await withTopic({ partitions: 1 }, async ({ topic, admin }) => {
    const group = uniqueName("g");
    await produceNumbered(admin, topic, { count: messages, partitions: 1 });
    const config = await writeConsumersConfig([{
      name: "c",
      group,
      topic,
      engine,
      mode,
      handler: fixtureHandler("spin.ts"),
      commit: { mode: "manual" },
      permissions: { env: ["SPIN_MS", "COMMIT_EVERY"] },
    }]);
    const daemon = startDaemon(config, { runtime, env: { SPIN_MS: "20", COMMIT_EVERY: "50" } });
    try {
      const offsets = (await handledWithoutRestart(daemon, messages)).map((r) => String(r.offset));
      assert.equal(offsets.length, messages, "one call per message");
      assert.equal(new Set(offsets).size, messages, "every message handled");
      await waitFor(
        async () => (await admin.committed(group, topic))[0]?.offset === String(messages),
        { what: `committed offset ${messages}` },
      );
    } finally {
      daemon.kill("SIGTERM");
      await daemon.exited();
    }
  });
}

/**
 * A worker that dies or hangs is restarted, alone: another consumer in the
 * same daemon keeps consuming meanwhile, and no message is lost.
 */
import assert from "node:assert/strict";
import type { Engine } from "../../src/config/types.ts";
import {
  type DaemonProcess,
  type DaemonRuntime,
  fixtureHandler,
  RUNTIMES,
  startDaemon,
  writeConsumersConfig,
} from "../harness/daemon.ts";
import { steadyLoad, uniqueName, waitFor, withTopic } from "../harness/kafka.ts";

const MODES = [
  { mode: "throw-uncaught", reason: /uncaught error/ },
  { mode: "self-close", reason: /the worker closed itself/ },
  { mode: "deno-exit", reason: /no heartbeat|uncaught error|fatal|the worker ended/ },
  { mode: "busy-loop", reason: /no heartbeat/ },
  { mode: "never-resolve", reason: /handler running for/ },
];

const time = (r: Record<string, unknown>) => Date.parse(String(r.time));

/** kafkajs on every runtime; the platformatic engine on Deno, where its dead member is evicted with its own admin. */
const RUNS: Array<[DaemonRuntime, Engine]> = [
  ...RUNTIMES.map((runtime): [DaemonRuntime, Engine] => [runtime, "kafkajs"]),
  ["deno", "platformatic"],
];

for (const [runtime, engine] of RUNS) {
  for (const { mode, reason } of MODES) {
    Deno.test({
      name: `supervisor on ${runtime}${
        engine === "kafkajs" ? "" : ` (${engine})`
      } restarts only the worker that misbehaved (${mode}); the other consumer goes on; nothing is lost`,
      // Bun's workers have no close(): a worker cannot close itself there.
      // Bun's runs and the platformatic engine's take 13 s each: with CONSUMERD_LONG_TESTS=1
      // (`deno task test:long`) only.
      ignore: (runtime === "bun" && mode === "self-close") ||
        (engine !== "kafkajs" && mode !== "busy-loop") ||
        ((runtime === "bun" || engine !== "kafkajs") &&
          Deno.env.get("CONSUMERD_LONG_TESTS") !== "1"),
    }, async () => {
      await withTopic(
        { partitions: 3, prefix: "victim" },
        async ({ topic: victimTopic, admin }) => {
          await withTopic(
            { partitions: 3, prefix: "bystander" },
            async ({ topic: bystanderTopic }) => {
              const markers = await Deno.makeTempDir();
              const values = Array.from({ length: 30 }, (_, i) => (i === 13 ? mode : `v-${i}`));
              await admin.produce(
                victimTopic,
                values.map((value, i) => ({ value, partition: i % 3 })),
              );
              const config = await writeConsumersConfig([
                {
                  name: "victim",
                  group: uniqueName("g"),
                  topic: victimTopic,
                  engine,
                  handler: fixtureHandler("misbehave.ts"),
                  handlerTimeoutMs: 2000,
                  permissions: { env: ["MARKER_DIR"], read: [markers], write: [markers] },
                },
                {
                  name: "bystander",
                  group: uniqueName("g"),
                  topic: bystanderTopic,
                  engine,
                  handler: fixtureHandler("record.ts"),
                },
              ]);
              const daemon: DaemonProcess = startDaemon(config, {
                env: { MARKER_DIR: markers },
                runtime,
              });
              const producer = steadyLoad(admin, bystanderTopic, { prefix: "b" });
              try {
                const restart = await daemon.waitForLog("worker restarting", { timeoutMs: 40_000 });
                assert.equal(restart.consumer, "victim");
                assert.match(String(restart.reason), reason);
                const victim = () =>
                  daemon.handled().filter((h) => h.value.startsWith("v-") || h.value === mode);
                await waitFor(() => new Set(victim().map((h) => h.value)).size === 30, {
                  what: "all 30 victim messages after the restart",
                  timeoutMs: 60_000,
                });
                // The bystander went on while the victim was down: from its
                // misbehaviour until its replacement handled a message again.
                const restartedAt = time(restart);
                const misbehavedAt = time(await daemon.waitForLog("misbehaving"));
                const backAt = Math.min(
                  ...daemon.logged("handled").filter((r) =>
                    !String(r.value).startsWith("b-") && time(r) >= restartedAt
                  ).map(time),
                );
                const during = daemon.logged("handled").filter((r) =>
                  String(r.value).startsWith("b-") && time(r) > misbehavedAt && time(r) < backAt
                );
                assert.ok(
                  during.length > 0,
                  "the bystander handled messages while the victim was down",
                );
                assert.equal(
                  daemon.logged("worker restarting").filter((r) => r.consumer === "bystander")
                    .length,
                  0,
                  "the bystander was never restarted",
                );
                if (engine === "platformatic") {
                  assert.ok(
                    daemon.logged("dead worker's group member removed").length > 0,
                    "the dead member was evicted",
                  );
                }
              } finally {
                const sent = await producer.stop();
                assert.equal(await daemon.stop(), 0);
                const bystander = new Set(
                  daemon.handled().filter((h) => h.value.startsWith("b-")).map((h) => h.value),
                );
                assert.equal(bystander.size, sent, "every bystander message handled");
                await Deno.remove(markers, { recursive: true });
              }
            },
          );
        },
      );
    });
  }
}

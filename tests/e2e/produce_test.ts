/**
 * At-least-once outputs, the daemon as a process on the real broker: a
 * worker dies with a produce in flight, then the daemon is SIGKILLed and
 * started again. Read back from the broker: every input has at least one
 * output (with its key and headers), and every input is committed.
 */
import assert from "node:assert/strict";
import type { Engine } from "../../src/config/types.ts";
import { type DaemonRuntime, fixtureHandler, startDaemon, writeConfig } from "../harness/daemon.ts";
import { BROKERS, uniqueName, waitFor, withTopic } from "../harness/kafka.ts";
import { readTopic } from "../harness/read_topic.ts";

/** CONSUMERD_LONG_TESTS=1 (`deno task test:long`) runs the 10,000 inputs. */
const LONG_RUN = Deno.env.get("CONSUMERD_LONG_TESTS") === "1";
const INPUTS = LONG_RUN ? 10_000 : 1500;
const PARTITIONS = 3;
/** The input whose first call kills its worker, its produce in flight. */
const CRASH_AT = 150;

const RUNS: Array<[DaemonRuntime, Engine]> = [
  ["deno", "kafkajs"],
  ["deno", "platformatic"],
  ["bun", "kafkajs"],
];

for (const [runtime, engine] of RUNS) {
  Deno.test(`${runtime} ${engine}: ctx.produce() at-least-once through a worker crash and a SIGKILLed daemon: every input has an output, every input committed`, async () => {
    await withTopic({ partitions: PARTITIONS }, async ({ topic, admin }) => {
      const output = `${topic}.out`;
      await admin.ensureTopic(output, { partitions: PARTITIONS });
      const markers = await Deno.makeTempDir();
      try {
        const values = Array.from(
          { length: INPUTS },
          (_, i) => i === CRASH_AT ? "crash-once" : `m-${i}`,
        );
        await admin.produce(
          topic,
          values.map((value, i) => ({ value, key: `k-${i}`, partition: i % PARTITIONS })),
        );
        const group = uniqueName("g");
        const config = await writeConfig({
          // The SIGKILLed daemon's member holds its partitions this long.
          kafka: { brokers: BROKERS, sessionTimeoutMs: 6000 },
          http: { listen: false },
          consumers: [{
            name: "c",
            group,
            topic,
            engine,
            handler: fixtureHandler("produce.ts"),
            outputs: [output],
            settings: { output },
            commit: { mode: "auto", intervalMs: 100 },
            permissions: { env: ["MARKER_DIR"], read: [markers], write: [markers] },
          }],
        });
        const env = { MARKER_DIR: markers };
        const first = startDaemon(config, { runtime, env });
        await first.waitForLog("worker restarting", { timeoutMs: 60_000 });
        await waitFor(() => first.handled().length >= INPUTS / 3, {
          what: "the restarted worker under way",
          timeoutMs: 60_000,
        });
        first.kill("SIGKILL");
        await first.exited();
        const second = startDaemon(config, { runtime, env });
        await waitFor(async () => {
          const committed = await admin.committed(group, topic);
          return committed.reduce((n, c) => n + Number(c.offset), 0) === INPUTS;
        }, { what: `${INPUTS} inputs committed`, timeoutMs: 60_000 });
        assert.equal(await second.stop(), 0);

        const outputs = await readTopic(admin, output);
        const produced = new Set(outputs.map((o) => o.value));
        const missing = values.filter((v) => !produced.has(`out:${v}`));
        assert.deepEqual(missing, [], "every input has an output");
        for (const o of outputs) {
          const i = Number(o.headers["source.offset"]![0]) * PARTITIONS + o.partition;
          assert.equal(o.key, `k-${i}`, "key copied");
        }
        console.log(
          `${runtime} ${engine}: ${INPUTS} inputs, ${outputs.length} outputs ` +
            `(${outputs.length - INPUTS} produced again after the crash and the SIGKILL)`,
        );
      } finally {
        await admin.deleteTopics([output]);
        await Deno.remove(markers, { recursive: true });
      }
    });
  });
}

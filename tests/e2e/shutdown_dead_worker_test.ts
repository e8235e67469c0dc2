/**
 * A shutdown does not wait for a worker that is already gone: one that
 * closed itself or threw outside its handler just before the SIGTERM (the
 * chaos soak's kills), or while the drain runs. The daemon drains its other
 * consumers, commits what they processed and exits 0, well before the grace
 * period ends.
 */
import assert from "node:assert/strict";
import {
  type DaemonRuntime,
  fixtureHandler,
  RUNTIMES,
  startDaemon,
  writeConfig,
} from "../harness/daemon.ts";
import {
  BROKERS,
  steadyLoad,
  transactionalProducer,
  uniqueName,
  waitFor,
  withTopic,
} from "../harness/kafka.ts";
import { simpleModeSlot, transactionalId } from "../../src/kafka/platformatic/transactions.ts";

/**
 * The shutdown's grace period; a drain that waited for the dead worker would
 * take all of it. A worker that ended without a word (Deno.exit() on Deno)
 * is gone once silent for the 10 s heartbeat timeout.
 */
const GRACE_MS = 25_000;

/**
 * `close`, `throw` and `exit` die before the signal, `@stop` ones once the
 * drain began. Bun's workers have no close(): the soak kills them by
 * throwing or with process.exit().
 */
const CASES: Array<[DaemonRuntime, string]> = [
  ["deno", "close"],
  ["deno", "throw"],
  ["deno", "close@stop"],
  ["deno", "exit@stop"],
  ...RUNTIMES.map((runtime): [DaemonRuntime, string] => [runtime, "throw@stop"]),
  ["bun", "throw"],
  ["bun", "exit"],
  ["bun", "exit@stop"],
];

/**
 * The default suite runs one death before the signal and one in the drain on
 * each runtime; CONSUMERD_LONG_TESTS=1 (`deno task test:long`) runs them all.
 */
const IN_SUITE = ["deno close", "deno close@stop", "bun exit", "bun throw@stop"];
const LONG_RUN = Deno.env.get("CONSUMERD_LONG_TESTS") === "1";

for (const [runtime, death] of CASES) {
  Deno.test({
    name:
      `${runtime}: a worker that died (${death}) is not waited for: the shutdown drains the other consumer and exits 0 well within its grace period`,
    ignore: !LONG_RUN && !IN_SUITE.includes(`${runtime} ${death}`),
  }, async () => {
    await withTopic({ partitions: 1, prefix: "victim" }, async ({ topic: victimTopic, admin }) => {
      await withTopic({ partitions: 3, prefix: "bystander" }, async ({ topic }) => {
        const group = uniqueName("g");
        const config = await writeConfig({
          kafka: { brokers: BROKERS },
          http: { listen: false },
          shutdown: { gracePeriodMs: GRACE_MS },
          consumers: [{
            name: "victim",
            group: uniqueName("g"),
            topic: victimTopic,
            handler: fixtureHandler("dies.ts"),
          }, { name: "bystander", group, topic, handler: fixtureHandler("dies.ts") }],
        });
        const daemon = startDaemon(config, { runtime });
        const load = steadyLoad(admin, topic, { intervalMs: 20, prefix: "b" });
        try {
          await daemon.waitForLog("consumer started", {
            where: (r) => r.consumer === "victim",
            timeoutMs: 60_000,
          });
          await waitFor(() => daemon.handled().length >= 50, { what: "50 bystander messages" });
          await admin.produce(victimTopic, [{ value: death, partition: 0 }]);
          // Before the signal: the supervisor has not noticed yet (a closed worker is silent
          // for 10 s; a control pass every 0.5 s sees an uncaught error); or dying in the drain.
          await daemon.waitForLog(death.endsWith("@stop") ? "holding" : "dying");
        } finally {
          await load.stop();
        }
        const signalledAt = performance.now();
        const code = await daemon.stop();
        const ms = Math.round(performance.now() - signalledAt);
        await daemon.waitForLog("dying").catch(() => {});
        const committed = await admin.committed(group, topic);
        const handled = daemon.handled();
        console.log(`${runtime} ${death}: exit ${code} after ${ms} ms`);
        assert.equal(code, 0, `exit code (after ${ms} ms)`);
        assert.ok(ms < GRACE_MS / 2, `the shutdown took ${ms} ms of its ${GRACE_MS} ms`);
        assert.equal(daemon.logged("dying").length, 1, "the victim died once");
        for (const { partition, offset } of committed) {
          const last = handled.filter((h) => h.partition === partition && h.value.startsWith("b-"))
            .map((h) => BigInt(h.offset)).reduce((a, b) => (a > b ? a : b), -1n);
          assert.equal(offset, String(last + 1n), `bystander partition ${partition} committed`);
        }
      });
    });
  });
}

Deno.test("deno: a worker whose final commit is refused while it drains (exactly-once, its transactional id fenced) fails the shutdown: exit 1", async () => {
  await withTopic({ partitions: 1 }, async ({ topic, admin }) => {
    const output = `${topic}.out`;
    await admin.ensureTopic(output, { partitions: 1 });
    try {
      const group = uniqueName("g");
      const config = await writeConfig({
        kafka: { brokers: BROKERS },
        http: { listen: false },
        shutdown: { gracePeriodMs: GRACE_MS },
        consumers: [{
          name: "c",
          group,
          topic,
          mode: "simple",
          engine: "platformatic",
          handler: fixtureHandler("produce_eos.ts"),
          outputs: [output],
          delivery: "exactly-once",
          settings: { output },
          // Nothing is committed before the stop's final commit (with ordering key, not after each batch).
          ordering: "key",
          commit: { mode: "auto", intervalMs: 600_000 },
        }],
      });
      const daemon = startDaemon(config, { runtime: "deno" });
      await daemon.waitForLog("consumer started", { timeoutMs: 60_000 });
      // Another producer takes the worker's transactional id over: its next transaction fails.
      const usurper = await transactionalProducer(
        transactionalId({ group, consumer: "c", replica: 0, daemon: simpleModeSlot(null) }),
      );
      await (await usurper.transaction()).abort(); // InitProducerId with the worker's id
      await usurper.disconnect();
      await admin.produce(topic, [{ value: "a", partition: 0 }]);
      await daemon.waitForLog("produced");
      const code = await daemon.stop();
      assert.equal(code, 1, "a refused final commit is a failed shutdown");
      assert.ok(daemon.logged("transaction failed; aborting it").length >= 1);
      const committed = await admin.committed(group, topic);
      assert.ok(
        !committed.some((c) => c.offset === "1"),
        `committed: ${JSON.stringify(committed)}`,
      );
    } finally {
      await admin.deleteTopics([output]);
    }
  });
});

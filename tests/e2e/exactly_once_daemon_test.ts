/**
 * `delivery: exactly-once` with the daemon as users run it, on Deno and Bun,
 * in balanced and simple mode: `ordering: key`, a daemon SIGKILLed in the middle of the run and started
 * again; read with `read_committed`, every input's output is there once.
 *
 * @module
 */
import assert from "node:assert/strict";
import { fixtureHandler, RUNTIMES, startDaemon, writeConfig } from "../harness/daemon.ts";
import { BROKERS, uniqueName, waitFor, withTopic } from "../harness/kafka.ts";
import { readValues } from "../harness/read_topic.ts";
import { Fleet, holds } from "../harness/fleet.ts";

/**
 * Deno in the default suite; Bun with CONSUMERD_LONG_TESTS=1 (`deno task
 * test:long`), as tests/e2e/worker_bundle_test.ts commits exactly-once
 * transactions on Bun in the suite.
 */
const LONG_RUN = Deno.env.get("CONSUMERD_LONG_TESTS") === "1";

for (const [runtime, mode] of RUNTIMES.flatMap((r) => [[r, "balanced"], [r, "simple"]] as const)) {
  Deno.test({
    name:
      `daemon on ${runtime}: exactly-once with ordering: key, mode: ${mode}, SIGKILLed mid-run and restarted: each input's output once under read_committed`,
    ignore: (runtime === "bun" || mode === "simple") && !LONG_RUN,
  }, async () => {
    await withTopic({ partitions: 2 }, async ({ topic, admin }) => {
      const output = `${topic}.out`;
      await admin.ensureTopic(output, { partitions: 2 });
      const group = uniqueName("g");
      const config = await writeConfig({
        // A short session: the restarted daemon gets the partitions soon after the killed one.
        kafka: { brokers: BROKERS, engine: "platformatic", sessionTimeoutMs: 6000 },
        http: { listen: false },
        consumers: [{
          name: "c",
          group,
          topic,
          // Simple mode: offsets without membership; only the slot's transactional id fences.
          mode,
          handler: fixtureHandler("produce_eos.ts"),
          outputs: [output],
          delivery: "exactly-once",
          ordering: "key",
          concurrency: 4,
          settings: { output },
          commit: { mode: "auto", intervalMs: 200 },
        }],
      });
      // 50 ms per call: the run lasts long enough to be cut in the middle.
      const inputs = Array.from({ length: 120 }, (_, i) => ({
        key: `k${i % 7}`,
        value: `sleep-50-${i}`,
        partition: i % 2,
      }));
      const committed = async () =>
        (await admin.committed(group, topic)).reduce((n, c) => n + Number(c.offset), 0);
      try {
        await admin.produce(topic, inputs);
        const first = startDaemon(config, { runtime });
        try {
          await waitFor(async () => (await committed()) > 0, {
            timeoutMs: 60_000,
            what: "a first transaction committed",
          });
        } finally {
          first.kill("SIGKILL");
          await first.exited();
        }
        assert((await committed()) < inputs.length, "killed in the middle of the run");
        const second = startDaemon(config, { runtime });
        try {
          await waitFor(async () => (await committed()) === inputs.length, {
            timeoutMs: 60_000,
            what: "every input committed by the restarted daemon",
          });
        } finally {
          second.kill("SIGTERM");
          assert.equal(await second.exited(), 0);
        }
        const outputs = await readValues(output, "read_committed");
        assert.deepEqual(outputs.toSorted(), inputs.map((i) => `out:${i.value}`).toSorted());
      } finally {
        await admin.deleteTopics([output]);
      }
    });
  });
}

for (const runtime of RUNTIMES) {
  Deno.test({
    name:
      `daemons on ${runtime}: exactly-once under the consumer group protocol, a second daemon joining while the first commits transactions: each input's output once under read_committed, no transaction failed`,
    ignore: runtime === "bun" && !LONG_RUN,
  }, async () => {
    await withTopic({ partitions: 4 }, async ({ topic, admin }) => {
      const output = `${topic}.out`;
      await admin.ensureTopic(output, { partitions: 4 });
      const group = uniqueName("g");
      const fleet = new Fleet({
        group,
        topic,
        protocol: "consumer",
        // Each daemon its own kafka.instanceId: its own transactional ids.
        static: true,
        runtime,
        consumer: {
          handler: fixtureHandler("produce_eos.ts"),
          outputs: [output],
          delivery: "exactly-once",
          settings: { output },
          commit: { mode: "auto", intervalMs: 200 },
        },
      });
      let sent = 0;
      const feed = async (batches: number) => {
        for (let b = 0; b < batches; b++) {
          await admin.produce(
            topic,
            Array.from({ length: 8 }, () => ({ value: `m-${sent}`, partition: sent++ % 4 })),
          );
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
      };
      try {
        const a = await fleet.start("a");
        await waitFor(() => holds(a)?.length === 4, { what: "a holds every partition" });
        await feed(5);
        const b = await fleet.start("b");
        while (!(holds(b)?.length)) {
          await feed(1);
          assert(sent < 4_000, "b took partitions in time");
        }
        await feed(10);
        await waitFor(async () => {
          const committed = await admin.committed(group, topic);
          return committed.reduce((n, c) => n + Number(c.offset ?? 0), 0) === sent;
        }, { what: "every input committed", timeoutMs: 60_000 });
        for (const run of fleet.runs) {
          assert.deepEqual(
            [
              ...run.process.logged("transaction failed; aborting it"),
              ...run.process.logged("consumer crashed"),
            ],
            [],
            `daemon ${run.name}: no transaction failed`,
          );
        }
      } finally {
        await fleet.kill();
      }
      const outputs = await readValues(output, "read_committed");
      assert.equal(outputs.length, sent, "each input's output once");
      assert.deepEqual(
        outputs.toSorted(),
        Array.from({ length: sent }, (_, i) => `out:m-${i}`).toSorted(),
      );
      await admin.deleteTopics([output]);
    });
  });
}

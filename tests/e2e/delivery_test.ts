/**
 * Delivery under ordinary production conditions, the daemon as a process on
 * the real broker: a handler call longer than the session timeout, a deploy
 * during a handler that honours ctx.signal, a slow setup(), a drain in
 * manual commit mode, a short commit interval and a crash, and a batch
 * handler that reports partial progress.
 */
import assert from "node:assert/strict";
import {
  type DaemonProcess,
  type DaemonRuntime,
  fixtureHandler,
  RUNTIMES,
  startDaemon,
  writeConfig,
  writeConsumersConfig,
} from "../harness/daemon.ts";
import type { Engine } from "../../src/config/types.ts";
import {
  BROKERS,
  describeGroup,
  transactionalProducer,
  uniqueName,
  waitFor,
  withTopic,
} from "../harness/kafka.ts";

const offsets = (d: DaemonProcess, msg: string) => d.logged(msg).map((r) => String(r.offset));

async function start(
  runtime: DaemonRuntime,
  engine: Engine,
  consumer: Record<string, unknown>,
  env: Record<string, string> = {},
  kafka: Record<string, unknown> = {},
): Promise<DaemonProcess> {
  const config = await writeConfig({
    kafka: { brokers: BROKERS, ...kafka },
    http: { listen: false },
    consumers: [{ name: "c", engine, ...consumer }],
  });
  const daemon = startDaemon(config, { env, runtime });
  await daemon.waitForLog("consumer started", { timeoutMs: 60_000 });
  return daemon;
}

/** The platformatic engine runs the tests that matter most to an engine (Deno only, to keep the suite short). */
const PLATFORMATIC_SUBSET = [
  "SIGTERM during a handler",
  "concurrency: 3 (balanced)",
  "out of range while reading",
  "aborted transaction",
];
/**
 * In the default suite on Deno with kafkajs only; on Bun and on the
 * platformatic engine with CONSUMERD_LONG_TESTS=1 (`deno task test:long`,
 * which CI runs too), which in turn skips the Deno kafkajs runs.
 */
const LONG = ["a 15 s handler call"];
/**
 * Run only with CONSUMERD_LONG_TESTS=1, on every runtime and engine that
 * runs them (the default suite keeps a shorter sibling: the 15 s call with a
 * 6 s session timeout, and the 15 s setup() on Deno).
 */
const LONG_ONLY = ["a 45 s handler call", "bun: a 15 s setup()"];
const LONG_RUN = Deno.env.get("CONSUMERD_LONG_TESTS") === "1";
const RUNS: Array<[DaemonRuntime, Engine]> = [
  ...RUNTIMES.map((runtime): [DaemonRuntime, Engine] => [runtime, "kafkajs"]),
  ["deno", "platformatic"],
];

for (const [runtime, engine] of RUNS) {
  /** Registers a test of this runtime and engine (a platformatic run only for its subset). */
  const test = (name: string, fn: () => Promise<void>) =>
    Deno.test({
      name: engine === "kafkajs" ? name : name.replace(`${runtime}:`, `${runtime} ${engine}:`),
      ignore: LONG_ONLY.some((s) => name.includes(s))
        ? !LONG_RUN
        : LONG.some((s) => name.includes(s))
        ? (runtime === "deno" && engine === "kafkajs") === LONG_RUN
        : engine !== "kafkajs" && !PLATFORMATIC_SUBSET.some((s) => name.includes(s)),
      fn,
    });
  /** A call `callS` long, longer than the group's session timeout: the member must stay. */
  const longCall = (callS: number, sessionS: number) =>
    test(`${runtime}: a ${callS} s handler call with a ${sessionS} s session timeout: handled once, committed moves on, no rebalance`, async () => {
      await withTopic({ partitions: 1 }, async ({ topic, admin }) => {
        const group = uniqueName("g");
        await admin.produce(topic, [
          { value: `sleep:${callS * 1000}`, partition: 0 },
          { value: "sleep:0", partition: 0 },
          { value: "sleep:0", partition: 0 },
        ]);
        const daemon = await start(
          runtime,
          engine,
          {
            group,
            topic,
            handler: fixtureHandler("deliver.ts"),
          },
          {},
          { sessionTimeoutMs: sessionS * 1000 },
        );
        await waitFor(() => daemon.logged("handled").length === 3, {
          what: "3 messages handled",
          timeoutMs: callS * 1000 + 45_000,
        });
        await waitFor(async () => (await admin.committed(group, topic))[0]?.offset === "3", {
          what: "committed offset 3",
        });
        assert.deepEqual(offsets(daemon, "handling"), ["0", "1", "2"], "each message called once");
        assert.equal(
          daemon.logged("partitions assigned").length,
          1,
          "one assignment: no rebalance",
        );
        assert.equal(daemon.logged("kafkajs: The group is rebalancing, re-joining").length, 0);
        const members = await describeGroup(group, "--state");
        assert.equal(members[0]?.["#MEMBERS"], "1");
        assert.equal(await daemon.stop(), 0);
      });
    });
  longCall(15, 6);
  longCall(45, 30);

  test(`${runtime}: SIGTERM during a handler that rejects on ctx.signal: nothing dead-lettered, nothing committed past, handled again after restart`, async () => {
    await withTopic({ partitions: 1 }, async ({ topic, admin }) => {
      await withTopic({ partitions: 1 }, async ({ topic: deadLetterTopic }) => {
        const group = uniqueName("g");
        await admin.produce(topic, [
          { value: "sleep:0", partition: 0 },
          { value: "wait-abort", partition: 0 },
        ]);
        const consumer = {
          group,
          topic,
          deadLetterTopic,
          handler: fixtureHandler("deliver.ts"),
        };
        const first = await start(runtime, engine, consumer);
        await waitFor(() => offsets(first, "handling").includes("1"), { what: "offset 1 in hand" });
        assert.equal(await first.stop(), 0, "an aborted handler is not a failed shutdown");
        assert.deepEqual(offsets(first, "handled"), ["0"]);
        assert.equal(first.logged("message dead-lettered").length, 0);
        assert.equal(
          (await admin.watermarks(deadLetterTopic))[0]?.high,
          "0",
          "dead-letter topic empty",
        );
        assert.deepEqual(await admin.committed(group, topic), [{ partition: 0, offset: "1" }]);

        // The restarted daemon is handed offset 1 again; this time it finishes.
        await admin.produce(topic, [{ value: "sleep:0", partition: 0 }]);
        const second = await start(runtime, engine, {
          ...consumer,
          handler: fixtureHandler("record.ts"),
        });
        await waitFor(() => second.handled().length === 2, { what: "offsets 1 and 2 handled" });
        assert.deepEqual(second.handled().map((h) => h.offset), ["1", "2"]);
        assert.equal(await second.stop(), 0);
        assert.deepEqual(await admin.committed(group, topic), [{ partition: 0, offset: "3" }]);
      });
    });
  });

  test(`${runtime}: a 15 s setup(): one setup, every message handled, no restart`, async () => {
    await withTopic({ partitions: 2 }, async ({ topic, admin }) => {
      const group = uniqueName("g");
      await admin.produce(
        topic,
        Array.from({ length: 10 }, (_, i) => ({ value: `m-${i}`, partition: i % 2 })),
      );
      const config = await writeConsumersConfig([{
        name: "c",
        group,
        topic,
        handler: fixtureHandler("slow_setup.ts"),
      }]);
      const daemon = startDaemon(config, { runtime });
      await waitFor(() => daemon.logged("handled").length === 10, {
        what: "10 messages handled",
        timeoutMs: 60_000,
      });
      assert.equal(daemon.logged("setup started").length, 1, "setup() ran once");
      assert.equal(daemon.logged("worker restarting").length, 0);
      assert.equal(await daemon.stop(), 0);
    });
  });

  test(`${runtime}: a setup() longer than startupTimeoutMs restarts the worker, and says why`, async () => {
    await withTopic({ partitions: 1 }, async ({ topic }) => {
      const config = await writeConsumersConfig([{
        name: "c",
        group: uniqueName("g"),
        topic,
        handler: fixtureHandler("slow_setup.ts"),
        startupTimeoutMs: 3000,
      }]);
      const daemon = startDaemon(config, { runtime });
      const restart = await daemon.waitForLog("worker restarting", { timeoutMs: 30_000 });
      assert.match(
        String(restart.reason),
        /setup\(\) still running after \d+ ms \(startupTimeoutMs 3000\)/,
      );
      assert.equal(await daemon.stop(), 0);
    });
  });

  test(`${runtime}: manual commit mode: a ctx.commit() while the worker drains is applied, not only reported`, async () => {
    await withTopic({ partitions: 1 }, async ({ topic, admin }) => {
      const group = uniqueName("g");
      await admin.produce(topic, [
        { value: "sleep:0", partition: 0 },
        { value: "sleep:0", partition: 0 },
        { value: "wait-abort-commit", partition: 0 },
      ]);
      const daemon = await start(runtime, engine, {
        group,
        topic,
        commit: { mode: "manual" },
        handler: fixtureHandler("deliver.ts"),
      });
      await waitFor(() => offsets(daemon, "handling").includes("2"), { what: "offset 2 in hand" });
      assert.equal(await daemon.stop(), 0);
      // The commit the handler made while draining covers offsets 0 and 1.
      assert.deepEqual(await admin.committed(group, topic), [{ partition: 0, offset: "2" }]);
    });
  });

  test(`${runtime}: commit.intervalMs below a second is honoured: a crash re-handles at most the last interval`, async () => {
    await withTopic({ partitions: 1 }, async ({ topic, admin }) => {
      const group = uniqueName("g");
      const markers = await Deno.makeTempDir();
      // 200 messages of 5 ms each in one batch; the worker dies at the 121st.
      const values = Array.from({ length: 200 }, (_, i) => i === 120 ? "crash-once" : "pace:5");
      await admin.produce(topic, values.map((value) => ({ value, partition: 0 })));
      const daemon = await start(runtime, engine, {
        group,
        topic,
        commit: { mode: "auto", intervalMs: 200 },
        handler: fixtureHandler("deliver.ts"),
        permissions: { env: ["MARKER_DIR"], read: [markers], write: [markers] },
      }, { MARKER_DIR: markers });
      await waitFor(() => daemon.logged("worker restarting").length === 1, { what: "the crash" });
      await waitFor(() => new Set(offsets(daemon, "handled")).size === 200, {
        what: "all 200 handled",
      });
      assert.equal(await daemon.stop(), 0);
      const handled = offsets(daemon, "handled");
      const twice = handled.length - new Set(handled).size;
      // 200 ms of 5 ms messages is 40; the interval was 1 s before it was honoured (all 120).
      assert.ok(twice <= 60, `${twice} messages handled twice after the crash`);
      await Deno.remove(markers, { recursive: true });
    });
  });

  test(`${runtime}: a batch handler that acks its progress: only the message it failed on is dead-lettered`, async () => {
    await withTopic({ partitions: 1 }, async ({ topic, admin }) => {
      await withTopic({ partitions: 1 }, async ({ topic: deadLetterTopic }) => {
        const group = uniqueName("g");
        const values = ["a", "b", "poison", "c", "d"];
        await admin.produce(topic, values.map((value) => ({ value, partition: 0 })));
        const daemon = await start(runtime, engine, {
          group,
          topic,
          deadLetterTopic,
          retry: { attempts: 2, backoffMs: 10, maxBackoffMs: 10 },
          handler: fixtureHandler("batch_ack.ts"),
        });
        await waitFor(async () => (await admin.committed(group, topic))[0]?.offset === "5", {
          what: "committed offset 5",
        });
        assert.equal(await daemon.stop(), 0);
        assert.deepEqual(daemon.handled().map((h) => h.value), ["a", "b", "c", "d"], "each once");
        assert.deepEqual(offsets(daemon, "message dead-lettered"), ["2"]);
        assert.equal((await admin.watermarks(deadLetterTopic))[0]?.high, "1");
      });
    });
  });

  for (const mode of ["balanced", "simple"] as const) {
    test(`${runtime}: concurrency: 3 (${mode}) handles three partitions at once, each in order, and commits only finished messages`, async () => {
      await withTopic({ partitions: 3 }, async ({ topic, admin }) => {
        const group = uniqueName("g");
        await admin.produce(
          topic,
          Array.from({ length: 12 }, (_, i) => ({ value: "sleep:300", partition: i % 3 })),
        );
        const daemon = await start(runtime, engine, {
          group,
          topic,
          mode,
          concurrency: 3,
          handler: fixtureHandler("deliver.ts"),
        });
        await waitFor(
          async () => (await admin.committed(group, topic)).every((c) => c.offset === "4"),
          {
            what: "committed offset 4 on every partition",
          },
        );
        assert.equal(await daemon.stop(), 0);
        // At some moment, calls on more than one partition were in progress together.
        let inProgress = 0;
        let most = 0;
        for (
          const r of daemon.logged("handling").concat(daemon.logged("handled")).sort((a, b) =>
            String(a.time).localeCompare(String(b.time)) || (a.msg === "handled" ? -1 : 1)
          )
        ) {
          inProgress += r.msg === "handling" ? 1 : -1;
          most = Math.max(most, inProgress);
        }
        assert.ok(most >= 2, `at most ${most} calls ran at once`);
        for (const p of [0, 1, 2]) {
          const order = daemon.logged("handling").filter((r) => r.partition === p).map((r) =>
            Number(r.offset)
          );
          assert.deepEqual(order, [0, 1, 2, 3], `partition ${p} in order, each once`);
        }
      });
    });
  }

  test(`${runtime}: out of range while reading (balanced): the placeholder kafkajs commits is replaced before the next message is handled`, async () => {
    await withTopic({ partitions: 1 }, async ({ topic, admin }) => {
      const group = uniqueName("g");
      await admin.produce(topic, [
        { value: "sleep:3000", partition: 0 },
        ...Array.from({ length: 9 }, () => ({ value: "sleep:0", partition: 0 })),
      ]);
      const daemon = await start(runtime, engine, {
        group,
        topic,
        handler: fixtureHandler("deliver.ts"),
      });
      await waitFor(() => offsets(daemon, "handling").includes("0"), { what: "offset 0 in hand" });
      // The platformatic engine fetches the next round while a round is handled: that fetch
      // (maxWaitMs 500) returns empty before anything new exists. Records it had fetched would
      // be handled from memory even after their deletion, as any prefetching consumer does.
      await new Promise((r) => setTimeout(r, 1_500));
      // While offsets 0..9 are handled from memory, the log moves on and its head is deleted.
      await admin.produce(topic, [
        ...Array.from({ length: 5 }, () => ({ value: "sleep:0", partition: 0 })),
        { value: "sleep:3000", partition: 0 }, // 15: the first message after the reset is slow
        ...Array.from({ length: 4 }, () => ({ value: "sleep:0", partition: 0 })),
      ]);
      await admin.deleteRecords(topic, [{ partition: 0, offset: "15" }]);
      await waitFor(() => offsets(daemon, "handling").includes("15"), {
        what: "offset 15 in hand",
      });
      // kafkajs committed -2 ("earliest") when it met the out-of-range offset;
      // the worker commits the real position before handling from it.
      assert.deepEqual(await admin.committed(group, topic), [{ partition: 0, offset: "15" }]);
      await waitFor(async () => (await admin.committed(group, topic))[0]?.offset === "20", {
        what: "committed offset 20",
      });
      assert.equal(await daemon.stop(), 0);
      assert.deepEqual(offsets(daemon, "handled").slice(-5), ["15", "16", "17", "18", "19"]);
      assert.equal(
        daemon.logged("committed offset out of range while reading; moved to autoOffsetReset")
          .length,
        1,
      );
    });
  });

  test(`${runtime}: a start position followed only by an aborted transaction (balanced): reading moves past it`, async () => {
    await withTopic({ partitions: 1 }, async ({ topic, admin }) => {
      const group = uniqueName("g");
      const producer = await transactionalProducer();
      const tx = await producer.transaction();
      // Three record batches larger than one fetch: each fetch holds only aborted records.
      for (const value of ["a", "b", "c"]) {
        await tx.send({ topic, messages: [{ value: value.repeat(4096), partition: 0 }] });
      }
      await tx.abort(); // offsets 0-2 aborted, the abort marker at 3
      await producer.disconnect();
      const daemon = await start(runtime, engine, {
        group,
        topic,
        fetch: { maxBytesPerPartition: 1024, maxBytes: 1024 },
        handler: fixtureHandler("record.ts"),
      });
      await admin.produce(topic, [{ value: "after", partition: 0 }]); // offset 4
      await waitFor(() => daemon.handled().length === 1, { what: "the message after the abort" });
      await waitFor(async () => (await admin.committed(group, topic))[0]?.offset === "5", {
        what: "committed offset 5",
      });
      assert.equal(await daemon.stop(), 0);
      assert.deepEqual(daemon.handled().map((h) => [h.offset, h.value]), [["4", "after"]]);
    });
  });

  test(`${runtime}: a 45 s handler call while another member joins: the member stays, the call is committed, nothing is handled twice`, async () => {
    await withTopic({ partitions: 1 }, async ({ topic, admin }) => {
      const group = uniqueName("g");
      await admin.produce(topic, [
        { value: "sleep:45000", partition: 0 },
        { value: "sleep:0", partition: 0 },
      ]);
      const first = await start(runtime, engine, {
        group,
        topic,
        handler: fixtureHandler("deliver.ts"),
      });
      await waitFor(() => offsets(first, "handling").includes("0"), { what: "offset 0 in hand" });
      // A second daemon joins the group 5 s into the call: the group rebalances
      // while the first member's call runs for 40 s more than that.
      await new Promise((r) => setTimeout(r, 5000));
      const second = await start(runtime, engine, {
        group,
        topic,
        handler: fixtureHandler("deliver.ts"),
      });
      await waitFor(async () => (await admin.committed(group, topic))[0]?.offset === "2", {
        what: "committed offset 2",
        timeoutMs: 60_000,
      });
      assert.equal(await second.stop(), 0);
      assert.equal(await first.stop(), 0);
      const calls = [...offsets(first, "handling"), ...offsets(second, "handling")];
      assert.deepEqual(calls.sort(), ["0", "1"], "each message called once, by one member");
      assert.deepEqual(offsets(first, "handled").slice(0, 1), ["0"]);
      assert.equal(
        first.logged("kafkajs: The coordinator is not aware of this member, re-joining the group")
          .length,
        0,
      );
    });
  });
}

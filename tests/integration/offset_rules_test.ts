/**
 * The offset rules of PRODUCT.md §3 on a real broker, through the daemon as
 * users run it. Every start position is committed at once, so each test reads
 * the group's committed offsets right after the consumer's start settled, and
 * checks which offsets the handler then sees.
 */
import assert from "node:assert/strict";
import type { KafkaAdmin } from "../../src/kafka/kafkajs/admin.ts";
import {
  type DaemonProcess,
  fixtureHandler,
  startDaemon,
  writeConsumersConfig,
} from "../harness/daemon.ts";
import type { Engine } from "../../src/config/types.ts";
import { describeConsumerGroup } from "../harness/consumer_group.ts";
import {
  committedByKafkaTool,
  ENGINES,
  produceNumbered,
  uniqueName,
  waitFor,
  withTopic,
} from "../harness/kafka.ts";

type ConsumerFields = Record<string, unknown> & { name: string; group: string; topic: string };

async function startConsumers(
  consumers: ConsumerFields[],
  env: Record<string, string> = {},
): Promise<DaemonProcess> {
  const config = await writeConsumersConfig(
    consumers.map((c) => ({ handler: fixtureHandler("record.ts"), ...c })),
  );
  const daemon = startDaemon(config, { env });
  try {
    for (const c of consumers) {
      await daemon.waitForLog("consumer started", {
        where: (r) => r.consumer === c.name,
        timeoutMs: 60_000,
      });
    }
  } catch (error) {
    daemon.kill("SIGKILL");
    await daemon.exited();
    throw error;
  }
  return daemon;
}

async function committed(
  admin: KafkaAdmin,
  group: string,
  topic: string,
): Promise<Array<string | null>> {
  return (await admin.committed(group, topic)).map((p) => p.offset);
}

function offsetsOf(daemon: DaemonProcess, partition: number): string[] {
  return daemon.handled().filter((h) => h.partition === partition).map((h) => h.offset);
}

async function stopped(daemon: DaemonProcess): Promise<void> {
  assert.equal(await daemon.stop(), 0, "the daemon exits 0 on SIGTERM");
}

const range = (from: number, to: number) =>
  Array.from({ length: to - from }, (_, i) => String(from + i));

Deno.test("the seed's examples: LATEST starts at 10, defaults resume after the last processed, EARLIEST+reset starts at 0", async () => {
  await withTopic({ partitions: 1 }, async ({ topic, admin }) => {
    const group = uniqueName("mygroup");
    await produceNumbered(admin, topic, { count: 10, partitions: 1 }); // offsets 0..9

    const c1 = await startConsumers([{ name: "c1", group, topic, autoOffsetReset: "LATEST" }]);
    assert.deepEqual(
      await committed(admin, group, topic),
      ["10"],
      "LATEST with no committed offset starts at 10",
    );
    await produceNumbered(admin, topic, { count: 3, partitions: 1, prefix: "a" }); // 10..12
    await waitFor(() => c1.handled().length === 3, { what: "3 messages" });
    assert.deepEqual(offsetsOf(c1, 0), ["10", "11", "12"]);
    await stopped(c1);

    const c2 = await startConsumers([{ name: "c2", group, topic }]);
    assert.deepEqual(
      await committed(admin, group, topic),
      ["13"],
      "resumes after the last processed message",
    );
    await produceNumbered(admin, topic, { count: 2, partitions: 1, prefix: "b" }); // 13..14
    await waitFor(() => c2.handled().length === 2, { what: "2 messages" });
    assert.deepEqual(offsetsOf(c2, 0), ["13", "14"]);
    await stopped(c2);

    const c3 = await startConsumers([
      { name: "c3", group, topic, autoOffsetReset: "EARLIEST", resetOffsetOnStart: true },
    ]);
    await waitFor(() => c3.handled().length === 15, { what: "15 messages" });
    assert.deepEqual(offsetsOf(c3, 0), range(0, 15), "EARLIEST + resetOffsetOnStart starts at 0");
    await stopped(c3);
    assert.deepEqual(await committed(admin, group, topic), ["15"]);
  });
});

Deno.test("off by one: after processing offset 4 a restart starts at 5, and Kafka's tool reports 5", async () => {
  await withTopic({ partitions: 1 }, async ({ topic, admin }) => {
    const group = uniqueName("g");
    await produceNumbered(admin, topic, { count: 5, partitions: 1 }); // 0..4
    const first = await startConsumers([{ name: "c", group, topic }]);
    await waitFor(() => first.handled().length === 5, { what: "5 messages" });
    await stopped(first);
    assert.equal(first.handled().at(-1)?.offset, "4");
    assert.deepEqual(await committedByKafkaTool(group, topic), new Map([[0, "5"]]));

    const second = await startConsumers([{ name: "c", group, topic }]);
    await produceNumbered(admin, topic, { count: 1, partitions: 1, prefix: "next" }); // 5
    await waitFor(() => second.handled().length === 1, { what: "1 message" });
    assert.deepEqual(offsetsOf(second, 0), ["5"]);
    await stopped(second);
  });
});

type Protocol = "classic" | "consumer";
const CASES = ENGINES.flatMap((engine) =>
  (["balanced", "simple"] as const).flatMap((mode) =>
    (["earliest", "latest"] as const).map((reset) => ({
      engine,
      mode,
      reset,
      protocol: "classic" as Protocol,
    }))
  )
);
/**
 * The start table again under the consumer group protocol (KIP-848; the
 * platformatic engine): earliest in the suite, latest too with
 * CONSUMERD_LONG_TESTS=1 (the protocol decides which partitions start, not where).
 */
const LONG = Deno.env.get("CONSUMERD_LONG_TESTS") === "1";
const CONSUMER_PROTOCOL_CASES = (LONG ? ["earliest", "latest"] as const : ["earliest"] as const)
  .map((reset) => ({
    engine: "platformatic" as const,
    mode: "balanced" as const,
    reset,
    protocol: "consumer" as Protocol,
  }));

/** The consumer's `groupProtocol`, and a check that its group is of that protocol (for `consumer`). */
function protocolOf(protocol: Protocol) {
  return {
    fields: protocol === "classic" ? {} : { groupProtocol: protocol },
    check: async (group: string) => {
      if (protocol === "classic") return;
      const described = await describeConsumerGroup(group);
      assert.equal(described.members.length, 1, "one member, of a consumer-protocol group");
    },
  };
}

for (const { engine, mode, reset, protocol } of [...CASES, ...CONSUMER_PROTOCOL_CASES]) {
  const by = protocol === "classic" ? "" : `, ${protocol} protocol`;
  Deno.test(
    `start table (${engine}, ${mode}${by}, ${reset}): reset on start, committed, none, out of range — 3 partitions${
      protocol === "consumer" && reset === "latest" ? " (long)" : ""
    }`,
    async (t) => {
      const { fields, check } = protocolOf(protocol);
      await withTopic({ partitions: 3 }, async ({ topic, admin }) => {
        await produceNumbered(admin, topic, { count: 12, partitions: 3 }); // 4 per partition: 0..3
        const resetTo = reset === "earliest" ? "0" : "4";

        /** Checks where each partition started (its "partition reset" log), what was read, and the final commit. */
        const expectStarts = async (d: DaemonProcess, group: string, reason: string) => {
          assert.deepEqual(
            d.logged("partition reset").map((r) => [r.partition, r.offset, r.reason]).sort(),
            [0, 1, 2].map((p) => [p, resetTo, reason]),
          );
          if (reset === "earliest") {
            await waitFor(() => d.handled().length === 12, { what: "12 messages" });
            for (const p of [0, 1, 2]) assert.deepEqual(offsetsOf(d, p), range(0, 4));
          }
          await stopped(d);
          assert.equal(d.handled().length, reset === "earliest" ? 12 : 0);
          assert.deepEqual(await committed(admin, group, topic), ["4", "4", "4"]);
        };

        await t.step(
          "resetOffsetOnStart, held at start, committed valid → autoOffsetReset",
          async () => {
            const group = uniqueName("g");
            await admin.commitOffsets(
              group,
              topic,
              [0, 1, 2].map((partition) => ({ partition, offset: "1" })),
            );
            const d = await startConsumers([
              {
                name: "c",
                group,
                topic,
                engine,
                mode,
                autoOffsetReset: reset,
                resetOffsetOnStart: true,
                ...fields,
              },
            ]);
            await check(group);
            await expectStarts(d, group, "reset-on-start");
          },
        );

        await t.step("no resetOffsetOnStart, committed valid → committed", async () => {
          const group = uniqueName("g");
          await admin.commitOffsets(
            group,
            topic,
            [0, 1, 2].map((partition) => ({ partition, offset: "1" })),
          );
          const d = await startConsumers([{
            name: "c",
            group,
            topic,
            engine,
            mode,
            autoOffsetReset: reset,
            ...fields,
          }]);
          await check(group);
          await waitFor(() => d.handled().length === 9, { what: "9 messages" });
          for (const p of [0, 1, 2]) assert.deepEqual(offsetsOf(d, p), ["1", "2", "3"]);
          assert.equal(d.logged("partition reset").length, 0);
          await stopped(d);
        });

        await t.step("no committed offset → autoOffsetReset", async () => {
          const group = uniqueName("g");
          const d = await startConsumers([{
            name: "c",
            group,
            topic,
            engine,
            mode,
            autoOffsetReset: reset,
            ...fields,
          }]);
          await check(group);
          await expectStarts(d, group, "no-committed-offset");
        });

        await t.step("committed beyond the end of the log → autoOffsetReset", async () => {
          const group = uniqueName("g");
          await admin.commitOffsets(
            group,
            topic,
            [0, 1, 2].map((partition) => ({ partition, offset: "100" })),
          );
          const d = await startConsumers([{
            name: "c",
            group,
            topic,
            engine,
            mode,
            autoOffsetReset: reset,
            ...fields,
          }]);
          await check(group);
          await expectStarts(d, group, "out-of-range");
        });
      });
    },
  );
}

for (
  const { engine, mode, reset } of CASES.filter((c) =>
    c.engine === "kafkajs" || c.reset === "earliest"
  )
) {
  Deno.test(`out of range after deleteRecords (${engine}, ${mode}, ${reset}): committed 5, log now starts at 8`, async () => {
    await withTopic({ partitions: 1 }, async ({ topic, admin }) => {
      const group = uniqueName("g");
      await produceNumbered(admin, topic, { count: 10, partitions: 1 }); // 0..9
      await admin.commitOffsets(group, topic, [{ partition: 0, offset: "5" }]);
      await admin.deleteRecords(topic, [{ partition: 0, offset: "8" }]);
      assert.deepEqual((await admin.watermarks(topic))[0], { partition: 0, low: "8", high: "10" });
      const d = await startConsumers([{
        name: "c",
        group,
        topic,
        engine,
        mode,
        autoOffsetReset: reset,
      }]);
      assert.deepEqual(d.logged("partition reset").map((r) => [r.partition, r.offset, r.reason]), [
        [0, reset === "earliest" ? "8" : "10", "out-of-range"],
      ]);
      if (reset === "earliest") {
        await waitFor(() => d.handled().length === 2, { what: "2 messages" });
      }
      await stopped(d);
      assert.deepEqual(offsetsOf(d, 0), reset === "earliest" ? ["8", "9"] : []);
      assert.deepEqual(await committed(admin, group, topic), ["10"]);
    });
  });
}

const SETTLING: Array<{ engine: Engine; protocol: Protocol }> = [
  ...ENGINES.map((engine) => ({ engine, protocol: "classic" as Protocol })),
  { engine: "platformatic", protocol: "consumer" },
];

for (const { engine, protocol } of SETTLING) {
  const by = protocol === "classic" ? "" : `, ${protocol} protocol`;
  Deno.test(`start settling (${engine}${by}): replicas: 3, EARLIEST + resetOffsetOnStart processes each of 30 messages once`, async () => {
    await withTopic({ partitions: 3 }, async ({ topic, admin }) => {
      const group = uniqueName("g");
      await produceNumbered(admin, topic, { count: 30, partitions: 3 });
      await admin.commitOffsets(
        group,
        topic,
        [0, 1, 2].map((partition) => ({ partition, offset: "10" })),
      );
      const d = await startConsumers([
        {
          name: "c",
          group,
          topic,
          engine,
          replicas: 3,
          autoOffsetReset: "EARLIEST",
          resetOffsetOnStart: true,
          ...protocolOf(protocol).fields,
        },
      ]);
      try {
        await waitFor(() => d.handled().length >= 30, { what: "30 messages", timeoutMs: 60_000 });
      } catch (error) {
        // What the daemon was doing, for a run that hangs only under load.
        d.kill("SIGKILL");
        await d.exited();
        const handled = d.handled().map((h) => `${h.partition}:${h.offset}`).join(" ");
        throw new Error(
          `${(error as Error).message}; handled ${handled}; the daemon's last lines:\n${
            d.stderr.slice(-40).join("\n")
          }`,
          { cause: error },
        );
      }
      await new Promise((r) => setTimeout(r, 1000)); // a moment for any duplicate to show
      const keys = d.handled().map((h) => `${h.partition}:${h.offset}`);
      assert.equal(keys.length, 30, "no message processed twice");
      assert.equal(new Set(keys).size, 30);
      await stopped(d);
      assert.deepEqual(await committed(admin, group, topic), ["10", "10", "10"]);
    });
  });
}

Deno.test("start settling: replicas: 3, LATEST + resetOffsetOnStart processes every message produced after the start settled", async () => {
  await withTopic({ partitions: 3 }, async ({ topic, admin }) => {
    const group = uniqueName("g");
    await produceNumbered(admin, topic, { count: 30, partitions: 3, prefix: "old" });
    await admin.commitOffsets(
      group,
      topic,
      [0, 1, 2].map((partition) => ({ partition, offset: "0" })),
    );
    const d = await startConsumers([
      { name: "c", group, topic, replicas: 3, autoOffsetReset: "LATEST", resetOffsetOnStart: true },
    ]);
    await produceNumbered(admin, topic, { count: 30, partitions: 3, prefix: "new" });
    await waitFor(() => d.handled().length >= 30, { what: "30 new messages", timeoutMs: 60_000 });
    await new Promise((r) => setTimeout(r, 1000));
    const values = d.handled().map((h) => h.value);
    assert.equal(values.length, 30);
    assert.deepEqual(new Set(values), new Set(Array.from({ length: 30 }, (_, i) => `new-${i}`)));
    await stopped(d);
  });
});

Deno.test("a second daemon resets only what it holds when its own start settles; moved partitions resume from committed", async () => {
  await withTopic({ partitions: 3 }, async ({ topic, admin }) => {
    const group = uniqueName("g");
    await produceNumbered(admin, topic, { count: 30, partitions: 3 });
    const consumer = {
      name: "c",
      group,
      topic,
      autoOffsetReset: "EARLIEST",
      resetOffsetOnStart: true,
    };
    const a = await startConsumers([consumer]);
    await waitFor(() => a.handled().length === 30, { what: "daemon A: 30 messages" });

    const b = await startConsumers([consumer]);
    const heldByB = (await b.waitForLog("consumer started")).heldAtStart as number[];
    assert.ok(heldByB.length >= 1 && heldByB.length < 3, `B holds some partitions: ${heldByB}`);
    await waitFor(() => b.handled().length === 10 * heldByB.length, {
      what: "daemon B: its partitions from 0",
    });
    for (const p of heldByB) assert.deepEqual(offsetsOf(b, p), range(0, 10));
    assert.equal(a.handled().length, 30, "A reset nothing when partitions moved away from it");

    await stopped(b);
    // B's partitions come back to A: committed offsets, no reset.
    await produceNumbered(admin, topic, { count: 3, partitions: 3, prefix: "after" });
    await waitFor(() => a.handled().length === 33, {
      what: "A: the 3 new messages",
      timeoutMs: 60_000,
    });
    await new Promise((r) => setTimeout(r, 1000));
    assert.deepEqual(a.handled().slice(30).map((h) => h.offset), ["10", "10", "10"]);
    await stopped(a);
  });
});

const RECOVERY: Array<{ engine: Engine; protocol: Protocol }> = [
  { engine: "kafkajs", protocol: "classic" },
  { engine: "platformatic", protocol: "consumer" },
];

for (const { engine, protocol } of RECOVERY) {
  const by = engine === "kafkajs" ? "" : ` (${engine}, ${protocol} protocol)`;
  Deno.test(`a worker that crashes mid-stream is restarted as a recovery${by}: no reset, nothing lost`, async () => {
    await withTopic({ partitions: 3 }, async ({ topic, admin }) => {
      const group = uniqueName("g");
      const marker = `${await Deno.makeTempDir()}/crashed`;
      const values = Array.from({ length: 30 }, (_, i) => (i === 13 ? "crash" : `m-${i}`));
      await admin.produce(topic, values.map((value, i) => ({ value, partition: i % 3 })));
      const d = await startConsumers([{
        name: "c",
        group,
        topic,
        autoOffsetReset: "EARLIEST",
        resetOffsetOnStart: true,
        handler: fixtureHandler("crash_once.ts"),
        permissions: { env: ["CRASH_MARKER"], read: [marker], write: [marker] },
        engine,
        ...protocolOf(protocol).fields,
      }], { CRASH_MARKER: marker });
      await d.waitForLog("worker restarting", { timeoutMs: 30_000 });
      await waitFor(() => new Set(d.handled().map((h) => h.value)).size === 30, {
        what: "all 30 values",
        timeoutMs: 60_000,
      });
      const resetsOnStart = d.logged("partition reset").filter((r) =>
        r.reason === "reset-on-start"
      );
      assert.equal(
        resetsOnStart.length,
        3,
        "only the first start reset (3 partitions); the recovery reset nothing",
      );
      const handled = d.handled();
      const duplicates = handled.length - new Set(handled.map((h) => h.value)).size;
      // Handled again: only what the dead worker handled and had not committed yet. kafkajs
      // commits each partition's batch as it ends; the platformatic engine in the background,
      // which the crash (at once, on the next partition) can overtake.
      const crashedAt = d.records.indexOf(d.logged("worker restarting")[0]!);
      const beforeCrash = d.records.slice(0, crashedAt).filter((r) => r.msg === "handled").length;
      assert.ok(
        duplicates <= (engine === "kafkajs" ? 10 : beforeCrash),
        `at most the uncommitted window is processed again: ${duplicates} (${beforeCrash} handled before the crash)`,
      );
      await stopped(d);
      assert.deepEqual(await committed(admin, group, topic), ["10", "10", "10"]);
    });
  });
}

for (const [first, second] of [["kafkajs", "platformatic"], ["platformatic", "kafkajs"]]) {
  // The first daemon's member leads the group and computes the assignment.
  Deno.test(`a mixed group: a ${first} daemon, then a ${second} daemon in the same group; each message once`, async () => {
    await withTopic({ partitions: 4 }, async ({ topic, admin }) => {
      const group = uniqueName("g");
      await produceNumbered(admin, topic, { count: 40, partitions: 4 });
      await admin.commitOffsets(
        group,
        topic,
        [0, 1, 2, 3].map((partition) => ({ partition, offset: "5" })),
      );
      const consumer = { name: "c", group, topic, autoOffsetReset: "EARLIEST" };
      const a = await startConsumers([{ ...consumer, engine: first }]);
      await waitFor(() => a.handled().length === 20, { what: "daemon A: 5..9 of each partition" });

      const b = await startConsumers([{ ...consumer, engine: second }]);
      const heldByB = (await b.waitForLog("consumer started")).heldAtStart as number[];
      assert.ok(heldByB.length >= 1 && heldByB.length < 4, `B holds some partitions: ${heldByB}`);
      // Whichever member leads the group, both speak RoundRobinAssigner: B got its share,
      // starting from what A committed.
      await produceNumbered(admin, topic, { count: 8, partitions: 4, prefix: "after" });
      await waitFor(() => a.handled().length + b.handled().length === 28, {
        what: "28 messages between A and B",
        timeoutMs: 60_000,
      });
      await new Promise((r) => setTimeout(r, 1000)); // a moment for any duplicate to show
      const keys = [...a.handled(), ...b.handled()].map((h) => `${h.partition}:${h.offset}`);
      assert.equal(new Set(keys).size, 28, "no message handled twice");
      for (const p of heldByB) assert.deepEqual(offsetsOf(b, p), ["10", "11"]);
      assert.equal(b.logged("partition reset").length, 0, "B resumed from committed offsets");
      await stopped(b);
      await stopped(a);
      assert.deepEqual(await committed(admin, group, topic), ["12", "12", "12", "12"]);
    });
  });
}

/**
 * startSimpleSession() against the real local broker: fixed partitions, no
 * group membership, offsets committed under the group and read back with
 * Kafka's own `kafka-consumer-groups` tool.
 *
 * @module
 */
import assert from "node:assert/strict";
import {
  type Assignment,
  batchMessages,
  type ConsumerSession,
  type FetchedBatch,
  type PartitionOffset,
  type SessionOptions,
} from "../../src/kafka/session.ts";
import { createKafka } from "../../src/kafka/kafkajs/client.ts";
import { startSimpleSession } from "../../src/kafka/kafkajs/simple_session.ts";
import { createLogger } from "../../src/log.ts";
import {
  committedByKafkaTool,
  describeGroup,
  produceNumbered,
  TEST_KAFKA,
  TEST_SESSION,
  transactionalProducer,
  uniqueName,
  waitFor,
  withTopic,
} from "../harness/kafka.ts";

/** What a session reported through its callbacks. */
interface Recorder {
  /** "partition:offset:value" of every delivered message, in delivery order. */
  delivered: string[];
  assigned: Assignment[];
  commits: PartitionOffset[][];
  outOfRange: number[];
  fatal: unknown[];
}

type Overrides = Partial<Omit<SessionOptions, "onBatch">> & {
  /** Handles one batch; by default every message is resolved in turn. */
  onBatch?: (batch: FetchedBatch, record: Recorder) => Promise<void> | void;
};

function resolveAll(batch: FetchedBatch, record: Recorder): void {
  for (const m of batchMessages(batch)) {
    if (!batch.active()) return;
    record.delivered.push(`${m.partition}:${m.offset}:${m.text()}`);
    batch.resolve(m.offset);
  }
}

async function start(
  topic: string,
  group: string,
  overrides: Overrides = {},
): Promise<{ session: ConsumerSession; record: Recorder }> {
  const record: Recorder = { delivered: [], assigned: [], commits: [], outOfRange: [], fatal: [] };
  const { onBatch = resolveAll, ...rest } = overrides;
  const session = await startSimpleSession({
    kafka: TEST_KAFKA,
    clientIdSuffix: "simple-test",
    group,
    topic,
    ...TEST_SESSION,
    logger: createLogger({ level: "warn" }),
    onBatch: async (batch) => await onBatch(batch, record),
    onAssigned: (a) => record.assigned.push(a),
    onCommitted: (offsets) => record.commits.push(offsets),
    onOutOfRange: (partition) => record.outOfRange.push(partition),
    onFatal: (error) => record.fatal.push(error),
    ...rest,
  });
  return { session, record };
}

/** The group's state and member count, as `kafka-consumer-groups --describe --state` shows them. */
async function groupState(group: string): Promise<{ state: string; members: number }> {
  const [row] = await describeGroup(group, "--state");
  return { state: row?.STATE ?? "", members: Number(row?.["#MEMBERS"]) };
}

/** "partition:offset:value" for the records produceNumbered() put at `offsets` of `partition`. */
function numbered(partition: number, partitions: number, offsets: number[]): string[] {
  return offsets.map((o) => `${partition}:${o}:m-${o * partitions + partition}`);
}

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from }, (_, i) => from + i);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

Deno.test("startSimpleSession() reads only its partitions from the begin() positions and commits under the group without joining it", async () => {
  await withTopic({ partitions: 3 }, async ({ topic, admin }) => {
    const group = uniqueName("g");
    await produceNumbered(admin, topic, { count: 30, partitions: 3 });
    const { session, record } = await start(topic, group, { partitions: [2, 0] });
    try {
      await waitFor(() => record.assigned.length > 0, { what: "onAssigned" });
      assert.deepEqual(record.assigned, [{ generation: 1, partitions: [0, 2] }]);
      assert.deepEqual(await session.describe([0, 2]), [
        { partition: 0, committed: null, metadata: null, logStartOffset: "0", highWatermark: "10" },
        { partition: 2, committed: null, metadata: null, logStartOffset: "0", highWatermark: "10" },
      ]);

      await session.begin(1, [{ partition: 0, offset: "0" }, { partition: 2, offset: "4" }]);
      assert.deepEqual(record.commits[0], [{ partition: 0, offset: "0" }, {
        partition: 2,
        offset: "4",
      }]);

      await waitFor(() => record.delivered.length >= 16, { what: "16 delivered messages" });
      await sleep(500); // anything more would show up now
      const byPartition = (p: number) => record.delivered.filter((d) => d.startsWith(`${p}:`));
      assert.deepEqual(byPartition(0), numbered(0, 3, range(0, 10)));
      assert.deepEqual(byPartition(2), numbered(2, 3, range(4, 10)));
      assert.equal(record.delivered.length, 16, "nothing from partition 1");

      await waitFor(async () => {
        const committed = await committedByKafkaTool(group, topic);
        return committed.get(0) === "10" && committed.get(2) === "10" ? committed : null;
      }, { intervalMs: 500, what: "offsets 10 and 10 in kafka-consumer-groups" });
      const committed = await committedByKafkaTool(group, topic);
      assert.deepEqual([...committed].sort(([a], [b]) => a - b), [[0, "10"], [2, "10"]]);
      assert.deepEqual(await groupState(group), { state: "Empty", members: 0 });
      assert.deepEqual(record.fatal, []);
    } finally {
      await session.stop();
    }
  });
});

Deno.test("startSimpleSession() fetches nothing before begin(), then delivers exactly the records from the begin() offset, in order", async () => {
  await withTopic({ partitions: 1 }, async ({ topic, admin }) => {
    const group = uniqueName("g");
    await produceNumbered(admin, topic, { count: 20, partitions: 1 });
    const { session, record } = await start(topic, group, { autoCommit: false });
    try {
      await waitFor(() => record.assigned.length > 0, { what: "onAssigned" });
      assert.deepEqual(record.assigned, [{ generation: 1, partitions: [0] }]);
      await sleep(1_000);
      assert.deepEqual(record.delivered, [], "nothing delivered before begin()");
      await assert.rejects(
        session.begin(2, [{ partition: 0, offset: "7" }]),
        RangeError,
        "simple mode has only generation 1",
      );

      await session.begin(1, [{ partition: 0, offset: "7" }]);
      await waitFor(() => record.delivered.length >= 13, { what: "13 delivered messages" });
      await sleep(500);
      assert.deepEqual(record.delivered, numbered(0, 1, range(7, 20)));

      // Manual commit mode: only begin() and commit() commit.
      assert.deepEqual(record.commits, [[{ partition: 0, offset: "7" }]]);
      assert.equal((await committedByKafkaTool(group, topic)).get(0), "7");
      await session.commit([{ partition: 0, offset: "20" }]);
      assert.deepEqual(record.commits.at(-1), [{ partition: 0, offset: "20" }]);
      assert.equal((await committedByKafkaTool(group, topic)).get(0), "20");
      assert.deepEqual(record.fatal, []);
    } finally {
      await session.stop();
    }
  });
});

Deno.test("startSimpleSession() moves a partition whose begin() offset was deleted to autoOffsetReset (earliest) and reports onOutOfRange", async () => {
  await withTopic({ partitions: 1 }, async ({ topic, admin }) => {
    const group = uniqueName("g");
    await produceNumbered(admin, topic, { count: 20, partitions: 1 });
    // The group's committed offset is 5 ...
    const first = await start(topic, group, { autoCommit: false });
    try {
      await waitFor(() => first.record.assigned.length > 0, { what: "onAssigned" });
      await first.session.commit([{ partition: 0, offset: "5" }]);
    } finally {
      await first.session.stop();
    }
    // ... and retention-like deletion moves the log start past it. (kafkajs's
    // deleteTopicRecords looks up leaders before loading the topic's metadata:
    // watermarks() loads it first.)
    await admin.watermarks(topic);
    await admin.deleteRecords(topic, [{ partition: 0, offset: "12" }]);
    assert.equal((await admin.watermarks(topic))[0]?.low, "12");

    const { session, record } = await start(topic, group);
    try {
      await waitFor(() => record.assigned.length > 0, { what: "onAssigned" });
      assert.deepEqual(await session.describe([0]), [
        { partition: 0, committed: "5", metadata: null, logStartOffset: "12", highWatermark: "20" },
      ]);
      await session.begin(1, [{ partition: 0, offset: "5" }]);
      await waitFor(() => record.delivered.length >= 8, { what: "8 delivered messages" });
      await sleep(500);
      assert.deepEqual(record.outOfRange, [0]);
      assert.deepEqual(record.delivered, numbered(0, 1, range(12, 20)));
      assert.deepEqual(record.commits, [
        [{ partition: 0, offset: "5" }], // begin()
        [{ partition: 0, offset: "12" }], // the reset, committed at once
        [{ partition: 0, offset: "20" }], // after the batch (auto mode)
      ]);
      assert.equal((await committedByKafkaTool(group, topic)).get(0), "20");
      assert.deepEqual(record.fatal, []);
    } finally {
      await session.stop();
    }
  });
});

Deno.test("startSimpleSession() moves a partition whose begin() offset is past the end to autoOffsetReset (latest)", async () => {
  await withTopic({ partitions: 1 }, async ({ topic, admin }) => {
    const group = uniqueName("g");
    await produceNumbered(admin, topic, { count: 20, partitions: 1 });
    const { session, record } = await start(topic, group, { autoOffsetReset: "latest" });
    try {
      await waitFor(() => record.assigned.length > 0, { what: "onAssigned" });
      await session.begin(1, [{ partition: 0, offset: "50" }]);
      await waitFor(() => record.outOfRange.length > 0, { what: "onOutOfRange" });
      assert.deepEqual(record.outOfRange, [0]);
      assert.deepEqual(record.commits, [
        [{ partition: 0, offset: "50" }], // begin()
        [{ partition: 0, offset: "20" }], // the reset to the high watermark
      ]);
      await produceNumbered(admin, topic, { count: 3, partitions: 1, prefix: "n" });
      await waitFor(() => record.delivered.length >= 3, { what: "3 delivered messages" });
      await sleep(500);
      assert.deepEqual(record.delivered, ["0:20:n-0", "0:21:n-1", "0:22:n-2"]);
      assert.equal((await committedByKafkaTool(group, topic)).get(0), "23");
      assert.deepEqual(record.fatal, []);
    } finally {
      await session.stop();
    }
  });
});

Deno.test("startSimpleSession() runs two sessions of one group on different partitions side by side without a rebalance", async () => {
  await withTopic({ partitions: 3 }, async ({ topic, admin }) => {
    const group = uniqueName("g");
    await produceNumbered(admin, topic, { count: 30, partitions: 3 });
    const a = await start(topic, group, { partitions: [0, 1] });
    try {
      const b = await start(topic, group, { partitions: [2] });
      try {
        await waitFor(() => a.record.assigned.length > 0 && b.record.assigned.length > 0, {
          what: "onAssigned of both sessions",
        });
        await a.session.begin(1, [{ partition: 0, offset: "0" }, { partition: 1, offset: "0" }]);
        await b.session.begin(1, [{ partition: 2, offset: "0" }]);
        await waitFor(() => a.record.delivered.length >= 20 && b.record.delivered.length >= 10, {
          what: "20 + 10 delivered messages",
        });
        // More records while both run: each session reads its own.
        await produceNumbered(admin, topic, { count: 30, partitions: 3, prefix: "n" });
        await waitFor(() => a.record.delivered.length >= 40 && b.record.delivered.length >= 20, {
          what: "40 + 20 delivered messages",
        });
        await sleep(500);
        assert.equal(a.record.delivered.length, 40);
        assert.equal(b.record.delivered.length, 20);
        assert.ok(a.record.delivered.every((d) => d.startsWith("0:") || d.startsWith("1:")));
        assert.ok(b.record.delivered.every((d) => d.startsWith("2:")));
        assert.deepEqual(
          b.record.delivered.map((d) => d.split(":")[1]),
          range(0, 20).map(String),
        );

        await waitFor(async () => {
          const committed = await committedByKafkaTool(group, topic);
          return [0, 1, 2].every((p) => committed.get(p) === "20");
        }, { intervalMs: 500, what: "offsets 20, 20, 20 in kafka-consumer-groups" });
        assert.deepEqual(await groupState(group), { state: "Empty", members: 0 });
        // No rebalance: each session saw its one assignment and no failure.
        assert.deepEqual(a.record.assigned, [{ generation: 1, partitions: [0, 1] }]);
        assert.deepEqual(b.record.assigned, [{ generation: 1, partitions: [2] }]);
        assert.deepEqual([...a.record.fatal, ...b.record.fatal], []);
      } finally {
        await b.session.stop();
      }
    } finally {
      await a.session.stop();
    }
  });
});

Deno.test("startSimpleSession() stop() commits the resolved offsets in auto mode and nothing past them", async () => {
  await withTopic({ partitions: 1 }, async ({ topic, admin }) => {
    const group = uniqueName("g");
    await produceNumbered(admin, topic, { count: 10, partitions: 1 });
    // Handles offsets 0-5, then holds offset 6 until the session stops.
    const { session, record } = await start(topic, group, {
      onBatch: async (batch, record) => {
        for (const m of batchMessages(batch)) {
          if (m.offset === "6") {
            while (batch.active()) await sleep(20);
            return;
          }
          record.delivered.push(`${m.partition}:${m.offset}:${m.text()}`);
          batch.resolve(m.offset);
        }
      },
    });
    let stopped = false;
    try {
      await waitFor(() => record.assigned.length > 0, { what: "onAssigned" });
      await session.begin(1, [{ partition: 0, offset: "0" }]);
      await waitFor(() => record.delivered.length >= 6, { what: "6 delivered messages" });
      await session.stop();
      stopped = true;
      assert.deepEqual(record.delivered, numbered(0, 1, range(0, 6)));
      assert.deepEqual(record.commits, [
        [{ partition: 0, offset: "0" }], // begin()
        [{ partition: 0, offset: "6" }], // stop(): offsets 0-5 resolved
      ]);
      assert.equal((await committedByKafkaTool(group, topic)).get(0), "6");
      await assert.rejects(session.commit([{ partition: 0, offset: "7" }]), /stopped/);
    } finally {
      if (!stopped) await session.stop();
    }
  });
});

Deno.test("startSimpleSession() resume() reads on from the record after the last resolved one", async () => {
  await withTopic({ partitions: 1 }, async ({ topic, admin }) => {
    const group = uniqueName("g");
    await produceNumbered(admin, topic, { count: 10, partitions: 1 });
    let session: ConsumerSession | null = null;
    let failedOnce = false;
    // Fails at offset 4 once: pauses the partition mid-batch, as the worker does.
    const started = await start(topic, group, {
      onBatch: (batch, record) => {
        for (const m of batchMessages(batch)) {
          if (!batch.active()) return;
          if (m.offset === "4" && !failedOnce) {
            failedOnce = true;
            session?.pause([0]);
            continue; // the rest of this batch must not count
          }
          record.delivered.push(`${m.partition}:${m.offset}:${m.text()}`);
          batch.resolve(m.offset);
        }
      },
    });
    session = started.session;
    const { record } = started;
    try {
      await waitFor(() => record.assigned.length > 0, { what: "onAssigned" });
      await session.begin(1, [{ partition: 0, offset: "0" }]);
      await waitFor(() => failedOnce, { what: "the failure at offset 4" });
      await sleep(1_000);
      assert.deepEqual(record.delivered, numbered(0, 1, range(0, 4)), "nothing while paused");
      session.resume([0]);
      await waitFor(() => record.delivered.length >= 10, { what: "10 delivered messages" });
      await sleep(500);
      assert.deepEqual(record.delivered, numbered(0, 1, range(0, 10)));
      assert.deepEqual(record.commits.at(-1), [{ partition: 0, offset: "10" }]);
    } finally {
      await session.stop();
    }
  });
});

Deno.test("startSimpleSession() moves past aborted transactions and control records, and commits past them", async () => {
  await withTopic({ partitions: 1 }, async ({ topic }) => {
    const group = uniqueName("g");
    const producer = await transactionalProducer();
    const transaction = async (values: string[], outcome: "commit" | "abort") => {
      const tx = await producer.transaction();
      await tx.send({ topic, messages: values.map((value) => ({ value, partition: 0 })) });
      await (outcome === "commit" ? tx.commit() : tx.abort());
    };
    const { session, record } = await start(topic, group);
    try {
      await transaction(["a-0", "a-1", "a-2"], "abort"); // offsets 0-2, abort marker at 3
      await waitFor(() => record.assigned.length > 0, { what: "onAssigned" });
      await session.begin(1, [{ partition: 0, offset: "0" }]);
      await waitFor(() => record.commits.length >= 2, {
        what: "a commit after the aborted records",
      });
      assert.deepEqual(record.commits, [[{ partition: 0, offset: "0" }], [{
        partition: 0,
        offset: "4",
      }]]);

      await transaction(["c-0", "c-1"], "commit"); // offsets 4-5, commit marker at 6
      await waitFor(() => record.commits.length >= 3, { what: "a commit after the transaction" });
      await sleep(500);
      assert.deepEqual(record.delivered, ["0:4:c-0", "0:5:c-1"]);
      assert.deepEqual(record.commits.at(-1), [{ partition: 0, offset: "7" }]);
      assert.equal(record.commits.length, 3);
      assert.equal((await committedByKafkaTool(group, topic)).get(0), "7");
    } finally {
      await session.stop();
      await producer.disconnect();
    }
  });
});

Deno.test("startSimpleSession() begin() rejects, naming the cause, while a balanced consumer is in the group", async () => {
  await withTopic({ partitions: 2 }, async ({ topic }) => {
    const group = uniqueName("g");
    const member = createKafka(TEST_KAFKA, { clientIdSuffix: "member" }).consumer({
      groupId: group,
    });
    let joined = false;
    member.on(member.events.GROUP_JOIN, () => (joined = true));
    await member.connect();
    try {
      await member.subscribe({ topics: [topic] });
      await member.run({ eachMessage: () => Promise.resolve() });
      await waitFor(() => joined, { what: "the balanced consumer's join" });
      const { session, record } = await start(topic, group, { partitions: [0] });
      try {
        await waitFor(() => record.assigned.length > 0, { what: "onAssigned" });
        await assert.rejects(
          session.begin(1, [{ partition: 0, offset: "0" }]),
          /the group has active members \(Kafka rejected the commit with UNKNOWN_MEMBER_ID\)/,
        );
        assert.deepEqual(record.commits, []);
      } finally {
        await session.stop();
      }
    } finally {
      await member.disconnect();
    }
  });
});

Deno.test("startSimpleSession() rejects a partition the topic does not have, and a topic that does not exist", async () => {
  await withTopic({ partitions: 2 }, async ({ topic }) => {
    await assert.rejects(
      start(topic, uniqueName("g"), { partitions: [1, 2] }),
      (error: Error) => {
        assert.ok(error instanceof RangeError);
        assert.match(error.message, /partition 2 of topic "[^"]+": it does not exist/);
        assert.match(error.message, /the topic has partitions 0, 1/);
        return true;
      },
    );
  });
  await assert.rejects(
    start(uniqueName("missing"), uniqueName("g")),
    /Cannot read topic "missing-[^"]+": it does not exist/,
  );
});

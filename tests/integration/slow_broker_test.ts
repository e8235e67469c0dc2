/**
 * The fetch-loop sessions (simple mode, both engines) against the real
 * broker through a Kafka-aware proxy (tests/harness/kafka_proxy.ts) that
 * holds chosen requests back, as a slow broker would, and counts what the
 * client had outstanding at once.
 *
 * @module
 */
import assert from "node:assert/strict";
import type { Engine } from "../../src/config/types.ts";
import { startSession } from "../../src/kafka/engine.ts";
import {
  batchMessages,
  type ConsumerSession,
  type FetchedBatch,
  type PartitionOffset,
} from "../../src/kafka/session.ts";
import { createLogger } from "../../src/log.ts";
import { API } from "../harness/kafka_frames.ts";
import { type KafkaProxy, startKafkaProxy } from "../harness/kafka_proxy.ts";
import {
  committedByKafkaTool,
  ENGINES,
  kafkaWith,
  produceNumbered,
  TEST_SESSION,
  uniqueName,
  waitFor,
  withTopic,
} from "../harness/kafka.ts";

const COMMIT_DELAY_MS = 2000;

interface Recorder {
  assigned: number;
  delivered: string[];
  commits: PartitionOffset[][];
  outOfRange: number[];
  fatal: unknown[];
}

/** A simple-mode session of `engine` on `topic` that talks to the broker only through `proxy`. */
async function start(
  engine: Engine,
  proxy: KafkaProxy,
  topic: string,
  group: string,
  onBatch: (batch: FetchedBatch, record: Recorder) => Promise<void>,
  concurrency = 1,
): Promise<{ session: ConsumerSession; record: Recorder }> {
  const record: Recorder = { assigned: 0, delivered: [], commits: [], outOfRange: [], fatal: [] };
  const session = await startSession(engine, "simple", {
    kafka: { ...kafkaWith(engine), brokers: proxy.brokers },
    clientIdSuffix: uniqueName("slow"),
    group,
    topic,
    ...TEST_SESSION,
    concurrency,
    logger: createLogger({ level: "error" }),
    onBatch: (batch) => onBatch(batch, record),
    onAssigned: () => record.assigned++,
    onCommitted: (offsets) => record.commits.push(offsets),
    onOutOfRange: (partition) => record.outOfRange.push(partition),
    onFatal: (error) => record.fatal.push(error),
  });
  return { session, record };
}

/** Resolves each message of `batch` in turn while `keep(offset)` holds. */
function resolveWhile(batch: FetchedBatch, record: Recorder, keep = (_offset: number) => true) {
  for (const m of batchMessages(batch)) {
    if (!batch.active() || !keep(Number(m.offset))) return;
    record.delivered.push(`${m.partition}:${m.offset}`);
    batch.resolve(m.offset);
  }
}

/** Resolves once the proxy has seen `count` OffsetCommit requests. */
function commitsSent(proxy: KafkaProxy, count: number): Promise<unknown> {
  return waitFor(() => proxy.requests(API.offsetCommit).length >= count, {
    what: `${count} OffsetCommit requests`,
    timeoutMs: 15_000,
  });
}

for (const engine of ENGINES) {
  // 11 s each: the platformatic run is in `deno task test:long`, the kafkajs one in the default suite.
  const long = engine === "platformatic";
  Deno.test({
    name:
      `${engine} simple session: with slow OffsetCommits, an auto commit never commits a partition's old position after its out-of-range reset${
        long ? " (long)" : ""
      }`,
    ignore: long && Deno.env.get("CONSUMERD_LONG_TESTS") !== "1",
  }, async () => {
    const proxy = await startKafkaProxy();
    try {
      await withTopic({ partitions: 2 }, async ({ topic, admin }) => {
        await produceNumbered(admin, topic, { count: 40, partitions: 2 }); // 20 per partition
        proxy.delay(API.offsetCommit, COMMIT_DELAY_MS);
        let first = true;
        // Both partitions' batches at once: partition 1's waits until partition 0's finished
        // batch has its auto commit (the second OffsetCommit, after begin()'s) under way.
        const group = uniqueName("g");
        const { session, record } = await start(
          engine,
          proxy,
          topic,
          group,
          async (batch, record) => {
            if (batch.partition === 0 || !first) return resolveWhile(batch, record);
            first = false;
            await commitsSent(proxy, 2);
            // Handles offsets 0-9 of partition 1, then retention-like deletion moves its log
            // start to 20: its next fetch, from 10, is out of range and resets to 20, while
            // the auto commit of partition 0 is still at the broker.
            resolveWhile(batch, record, (offset) => offset < 10);
            await admin.deleteRecords(topic, [{ partition: 1, offset: "20" }]);
          },
          2,
        );
        try {
          await waitFor(() => record.assigned > 0, { what: "onAssigned" });
          await session.begin(1, [{ partition: 0, offset: "0" }, { partition: 1, offset: "0" }]);
          await waitFor(() => record.outOfRange.length > 0, { what: "onOutOfRange" });
          // Every commit asked for so far has been answered (none comes after: nothing is left).
          await waitFor(
            async () => {
              const sent = proxy.requests(API.offsetCommit).length;
              await new Promise((r) => setTimeout(r, 2 * COMMIT_DELAY_MS));
              return proxy.requests(API.offsetCommit).length === sent &&
                record.commits.length === sent;
            },
            { what: "the commits to settle", timeoutMs: 20_000 },
          );
          // The race was set up: the reset (its ListOffsets) ran while partition 0's auto
          // commit was held, so an auto commit computed when that one was answered could still
          // read the old position.
          const held = proxy.requests(API.offsetCommit)[1]!;
          assert.ok(
            proxy.requests(API.listOffsets).some((r) =>
              r.arrivedAt > held.arrivedAt && r.arrivedAt < (held.answeredAt ?? Infinity)
            ),
            "the reset ran while the auto commit before it was held",
          );
          assert.deepEqual(record.outOfRange, [1]);
          const reset = record.commits.findIndex((c) =>
            c.some((o) => o.partition === 1 && o.offset === "20")
          );
          assert.ok(reset >= 0, `the reset was committed: ${JSON.stringify(record.commits)}`);
          const after = record.commits.slice(reset + 1).flat().filter((o) => o.partition === 1);
          assert.ok(
            after.every((o) => BigInt(o.offset) >= 20n),
            `no commit after the reset moves partition 1 back: ${JSON.stringify(record.commits)}`,
          );
          assert.equal((await committedByKafkaTool(group, topic)).get(1), "20");
          assert.deepEqual(record.fatal, []);
        } finally {
          await session.stop();
        }
      });
    } finally {
      proxy.close();
    }
  });
}

for (const engine of ENGINES) {
  Deno.test(`${engine} simple session: a partition resumed while the next Fetch waits at the broker is fetched after it, never beside it`, async () => {
    const proxy = await startKafkaProxy();
    try {
      await withTopic({ partitions: 2 }, async ({ topic, admin }) => {
        await produceNumbered(admin, topic, { count: 4, partitions: 2 });
        const group = uniqueName("g");
        const { session, record } = await start(engine, proxy, topic, group, (batch, record) => {
          resolveWhile(batch, record);
          return Promise.resolve();
        });
        try {
          await waitFor(() => record.assigned > 0, { what: "onAssigned" });
          await session.begin(1, [{ partition: 0, offset: "0" }, { partition: 1, offset: "0" }]);
          await waitFor(() => record.delivered.length === 4, { what: "4 delivered messages" });
          // Caught up: each Fetch now waits at the broker for up to maxWaitMs (500 ms). A
          // partition paused and resumed meanwhile is asked for afresh in the next round.
          for (let i = 0; i < 5; i++) {
            await new Promise((r) => setTimeout(r, 150 + 70 * i));
            session.pause([1]);
            session.resume([1]);
          }
          await admin.produce(topic, [{ value: "late", partition: 1 }]);
          await waitFor(() => record.delivered.includes("1:2"), {
            what: "the record produced after the resumes",
            timeoutMs: 10_000,
          });
          assert.ok(proxy.requests(API.fetch).length > 5, "the session fetched through the proxy");
          assert.equal(proxy.mostInFlight(API.fetch), 1, "one Fetch at a time");
          assert.deepEqual(record.fatal, []);
        } finally {
          await session.stop();
        }
      });
    } finally {
      proxy.close();
    }
  });
}

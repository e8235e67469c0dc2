/**
 * A `resetOffsetOnStart` consumer (latest) whose start commit was applied
 * but whose answer was lost (the Kafka-aware proxy cuts the connection as
 * each OffsetCommit answer arrives), and whose start is abandoned before it
 * is tried again: its assignment changes (a second member joins the group),
 * or its worker is drained (a `kafka:`-only reload reconnects it). The
 * partition comes back in a later start, which must not reset it again: it
 * resumes where the first decision put it, so the 50 messages produced
 * meanwhile are all handled (by the daemon, or by the member that took the
 * other partition), none skipped by a second reset to the new end of the log.
 *
 * The daemon as a process; its brokers are the proxy. The rebalance on
 * kafkajs, which tries a group commit six times before a start fails (about
 * 25 s here), runs with CONSUMERD_LONG_TESTS=1.
 *
 * @module
 */
import assert from "node:assert/strict";
import { stringify } from "yaml";
import { saveInPlace } from "../harness/config_files.ts";
import type { Engine } from "../../src/config/types.ts";
import type { KafkaAdmin } from "../../src/kafka/kafkajs/admin.ts";
import { type DaemonProcess, fixtureHandler, startDaemon, writeConfig } from "../harness/daemon.ts";
import { API } from "../harness/kafka_frames.ts";
import { type KafkaProxy, startKafkaProxy } from "../harness/kafka_proxy.ts";
import {
  ENGINES,
  joinGroup,
  produceNumbered,
  uniqueName,
  waitFor,
  withTopic,
} from "../harness/kafka.ts";

const OLD = 10; // per partition, before the start: skipped by the latest reset
const NEW = 50; // after the start's commit, before its retry
const LONG_RUN = Deno.env.get("CONSUMERD_LONG_TESTS") === "1";

/** The consumer under test (the daemon's only one). */
const consumer = (engine: Engine, group: string, topic: string, mode = "balanced") => ({
  name: "c",
  group,
  topic,
  engine,
  mode,
  handler: fixtureHandler("record.ts"),
  autoOffsetReset: "latest",
  resetOffsetOnStart: true,
});

/**
 * A topic of two partitions with `OLD` messages each, and the proxy applying every commit and
 * losing its answer until `proxy.uncut(API.offsetCommit)`.
 */
async function withLostCommits(
  fn: (context: {
    topic: string;
    admin: KafkaAdmin;
    proxy: KafkaProxy;
    /** Resolves once the first commit (the start's) was applied and its answer lost. */
    firstLost: Promise<unknown>;
  }) => Promise<void>,
): Promise<void> {
  const proxy = await startKafkaProxy();
  try {
    await withTopic({ partitions: 2 }, async ({ topic, admin }) => {
      await produceNumbered(admin, topic, { count: 2 * OLD, partitions: 2, prefix: "old" });
      const firstLost = proxy.cut(API.offsetCommit, { times: Infinity }).first;
      await fn({ topic, admin, proxy, firstLost });
    });
  } finally {
    proxy.close();
  }
}

/**
 * Once the start is done: one more message per partition; when both are handled (`seen`, as
 * "partition:offset"), asserts that the `NEW` messages produced after the start's commit were too.
 */
async function assertNothingSkipped(
  admin: KafkaAdmin,
  topic: string,
  seen: () => string[],
): Promise<void> {
  await admin.produce(topic, [0, 1].map((partition) => ({ value: "last", partition })));
  await waitFor(() => [0, 1].every((p) => seen().includes(`${p}:${OLD + NEW / 2}`)), {
    what: "the last message of each partition handled",
  });
  const produced = [0, 1].flatMap((p) =>
    Array.from({ length: NEW / 2 }, (_, i) => `${p}:${OLD + i}`)
  );
  assert.deepEqual(
    produced.filter((m) => !seen().includes(m)),
    [],
    "messages produced after the start that nobody handled",
  );
}

const handledBy = (daemon: DaemonProcess) =>
  daemon.logged("handled").map((r) => `${r.partition}:${r.offset}`);

for (const engine of ENGINES) {
  Deno.test({
    name:
      `daemon (${engine}): a latest reset on start applied but unanswered, then a rebalance before its retry, is done once; the ${NEW} messages produced in between are all handled`,
    ignore: engine === "kafkajs" && !LONG_RUN,
    fn: () =>
      withLostCommits(async ({ topic, admin, proxy, firstLost }) => {
        const group = uniqueName("g");
        const config = await writeConfig({
          kafka: { brokers: proxy.brokers },
          http: { listen: false },
          consumers: [consumer(engine, group, topic)],
        });
        const daemon = startDaemon(config);
        const byMember: string[] = [];
        let member: { leave(): Promise<void> } | null = null;
        try {
          await firstLost; // the start's commit of offset 10 on both partitions: applied
          await produceNumbered(admin, topic, { count: NEW, partitions: 2, prefix: "new" });
          member = await joinGroup(group, topic, {
            onMessage: (partition, offset) => byMember.push(`${partition}:${offset}`),
          });
          // The daemon's next assignment, then its start failing: the first start was abandoned.
          const next = await daemon.waitForLog("partitions assigned", {
            where: (r) => (r.generation as number) > 1,
          });
          await daemon.waitForLog("cannot start the assignment; retrying", {
            where: (r) => String(r.partitions) === String(next.partitions),
            timeoutMs: 60_000,
          });
          proxy.uncut(API.offsetCommit);
          await daemon.waitForLog("consumer started", { timeoutMs: 60_000 });
          await assertNothingSkipped(admin, topic, () => [...handledBy(daemon), ...byMember]);
          assert.deepEqual(
            daemon.logged("partition reset").map((r) => r.partition).sort(),
            [0, 1].filter((p) => (next.partitions as number[]).includes(p)),
            "each partition the daemon kept reset once",
          );
        } finally {
          await member?.leave();
          daemon.kill("SIGTERM");
          await daemon.exited();
        }
      }),
  });

  Deno.test(`daemon (${engine}, simple): a latest reset on start applied but unanswered, then a kafka:-only reload before its retry, is done once; the ${NEW} messages produced in between are all handled`, () =>
    withLostCommits(async ({ topic, admin, proxy, firstLost }) => {
      const group = uniqueName("g");
      const path = await writeConfig({});
      const save = (clientId: string) =>
        saveInPlace(
          path,
          stringify({
            kafka: { brokers: proxy.brokers, clientId },
            http: { listen: false },
            reload: { debounceMs: 100 },
            consumers: [consumer(engine, group, topic, "simple")],
          }),
        );
      await save("consumerd");
      const daemon = startDaemon(path);
      try {
        await firstLost; // the start's commit of offset 10 on both partitions: applied
        await produceNumbered(admin, topic, { count: NEW, partitions: 2, prefix: "new" });
        await save("consumerd-rotated"); // drains the worker and starts another
        const reload = await daemon.waitForLog("config reload", { where: (r) => r.ok === true });
        // The reconnected worker's start failing: the first start was abandoned.
        await daemon.waitForLog("cannot start the assignment; retrying", {
          where: (r) => daemon.records.indexOf(r) > daemon.records.indexOf(reload),
          timeoutMs: 60_000,
        });
        proxy.uncut(API.offsetCommit);
        await daemon.waitForLog("consumer started", { timeoutMs: 60_000 });
        await assertNothingSkipped(admin, topic, () => handledBy(daemon));
      } finally {
        daemon.kill("SIGTERM");
        await daemon.exited();
      }
    }));
}

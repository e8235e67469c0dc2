/**
 * The consumer group protocol (KIP-848) with static membership: three
 * daemons in one group on a 6-partition topic under a steady 500 msg/s.
 * A daemon that joins takes only its share, and the partitions that do not
 * move never stop; a daemon restarted within the session timeout moves no
 * partition at all. Every message is handled, and none twice: a partition
 * is released only after its last handled offset was committed.
 */
import assert from "node:assert/strict";
import { describeConsumerGroup } from "../harness/consumer_group.ts";
import {
  assignments,
  crashingOnce,
  crashWorker,
  duplicates,
  Fleet,
  type FleetRun,
  holds,
  longestGap,
  resumedAt,
  sharing,
} from "../harness/fleet.ts";
import {
  BROKERS,
  produceNumbered,
  steadyLoad,
  uniqueName,
  waitFor,
  withTopic,
} from "../harness/kafka.ts";
import { type DaemonProcess, fixtureHandler, startDaemon, writeConfig } from "../harness/daemon.ts";
import { API } from "../harness/kafka_frames.ts";
import { startKafkaProxy } from "../harness/kafka_proxy.ts";

const PARTITIONS = 6;
/** The longest a partition that does not move may go without a handled message, ms. */
const KEPT_PAUSE_MS = 1_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const range = (from: number, to: number) =>
  Array.from({ length: to - from }, (_, i) => String(from + i));

/** Waits until `runs` share every partition, each holding some; returns who holds what. */
async function spread(runs: FleetRun[]): Promise<Map<FleetRun, number[]>> {
  const held = await sharing(runs, PARTITIONS);
  return new Map(runs.map((r, i) => [r, held[i]!]));
}

Deno.test("consumer protocol with static membership: a joining daemon moves only its share and the rest never stops; a restart within the session timeout moves nothing; nothing lost or handled twice", async (t) => {
  await withTopic({ partitions: PARTITIONS, prefix: "kip848" }, async ({ topic, admin }) => {
    const group = uniqueName("g");
    const crash = await crashingOnce();
    const fleet = new Fleet({
      group,
      topic,
      protocol: "consumer",
      static: true,
      consumer: crash.consumer,
      env: crash.env,
    });
    const load = steadyLoad(admin, topic, { batch: 30, intervalMs: 60, partitions: PARTITIONS });
    let stopped = false;
    try {
      const a = await fleet.start("a");
      let b = await fleet.start("b");
      const before = await spread([a, b]);

      await t.step(
        "c joins: only its share moves; a's and b's other partitions never stop",
        async () => {
          const joinedAt = Date.now();
          const c = await fleet.start("c");
          const after = await spread([a, b, c]);
          await sleep(1_000);
          const settledAt = Date.now();
          const moved = [...before].flatMap(([run, ps]) =>
            ps.filter((p) => !after.get(run)!.includes(p))
          );
          assert.deepEqual(moved.sort(), [...after.get(c)!].sort(), "only what c got moved");
          const handled = fleet.handled();
          const kept = [...after].filter(([run]) => run !== c).flatMap(([, ps]) => ps);
          const gaps = kept.map((p) => longestGap(handled, p, joinedAt, settledAt));
          const movedGaps = moved.map((p) => longestGap(handled, p, joinedAt, settledAt));
          console.log(
            `c joined: moved ${moved} (longest gap ${Math.max(...movedGaps)} ms); kept ${kept}: ` +
              `longest gaps ${gaps.join(", ")} ms`,
          );
          assert.ok(Math.max(...gaps) <= KEPT_PAUSE_MS, `a kept partition paused: ${gaps}`);
        },
      );

      await t.step(
        "b restarts within the session timeout: no partition moves, a and c see no new assignment",
        async () => {
          const held = new Map([a, b, fleet.current("c")].map((r) => [r.name, holds(r)!]));
          const counts = [a, fleet.current("c")].map((r) => assignments(r).length);
          const epochs = (await describeConsumerGroup(group)).members
            .filter((m) => m.instanceId !== "b.c.0")
            .map((m) => m.memberEpoch);
          const stoppedAt = Date.now();
          assert.equal(await b.process.stop(), 0, "b drains and exits 0");
          await sleep(2_000);
          b = await fleet.start("b");
          await waitFor(() => holds(b)?.join() === held.get("b")!.join(), {
            what: "b holds its partitions again",
          });
          const resumedMs = await resumedAt(fleet, b, held.get("b")!) - b.startedAt;
          await sleep(1_000);
          const handled = fleet.handled();
          const others = [...held].filter(([name]) => name !== "b").flatMap(([, ps]) => ps);
          const gaps = others.map((p) => longestGap(handled, p, stoppedAt, Date.now()));
          console.log(
            `b restarted: its partitions resumed ${resumedMs} ms after its start; the others' ` +
              `longest gaps ${gaps.join(", ")} ms`,
          );
          assert.deepEqual(
            [a, fleet.current("c")].map((r) => assignments(r).length),
            counts,
            "a and c got no new assignment",
          );
          assert.deepEqual(
            (await describeConsumerGroup(group)).members
              .filter((m) => m.instanceId !== "b.c.0")
              .map((m) => m.memberEpoch),
            epochs,
            "a's and c's member epochs did not change",
          );
          assert.ok(
            Math.max(...gaps) <= KEPT_PAUSE_MS,
            `another daemon's partition paused: ${gaps}`,
          );
        },
      );

      await t.step(
        "a's worker crashes: its replacement takes the partitions back with no rebalance",
        async () => {
          const others = [b, fleet.current("c")];
          const counts = others.map((r) => assignments(r).length);
          const epochs = async () =>
            (await describeConsumerGroup(group)).members
              .filter((m) => m.instanceId !== "a.c.0")
              .map((m) => [m.instanceId, m.memberEpoch]);
          const before = await epochs();
          await crashWorker(admin, topic, fleet, a, holds(a)!);
          assert.deepEqual(others.map((r) => assignments(r).length), counts, "no new assignment");
          assert.deepEqual(await epochs(), before, "b's and c's member epochs did not change");
        },
      );

      const sent = await load.stop();
      stopped = true;
      await waitFor(() => new Set(fleet.handled().map((h) => h.value)).size >= sent + 1, {
        what: `all ${sent} messages (and "crash") handled`,
      });
      // Handled twice: only what a's crashed worker had not committed, on the partition it died on.
      const handled = fleet.handled();
      const twice = [...duplicates(handled).keys()];
      const where = new Set(
        handled.filter((h) => twice.includes(h.value)).map((h) => `${h.run.name}:${h.partition}`),
      );
      assert.ok(where.size <= 1 && [...where].every((w) => w.startsWith("a:")), `${[...where]}`);
      console.log(`${sent} messages; handled twice: ${twice.length} (all in a's crashed window)`);
    } finally {
      if (!stopped) await load.stop();
      await fleet.kill();
      await crash.remove();
    }
  });
});

/** How long the proxy holds back the first daemon's commits, ms: longer than a heartbeat interval (5 s). */
const COMMIT_HELD_MS = 10_000;

Deno.test({
  name:
    "consumer protocol: a partition is released only after the commits already on their way (its start position's, held back 10 s): its next owner's committed offset is not moved back (long)",
  ignore: Deno.env.get("CONSUMERD_LONG_TESTS") !== "1",
}, async () => {
  await withTopic({ partitions: 2, prefix: "kip848-late" }, async ({ topic, admin }) => {
    const group = uniqueName("g");
    await produceNumbered(admin, topic, { count: 40, partitions: 2 }); // 0..19 on each
    await admin.commitOffsets(
      group,
      topic,
      [0, 1].map((partition) => ({ partition, offset: "10" })),
    );
    const proxy = await startKafkaProxy();
    const config = (name: string, brokers: string[]) =>
      writeConfig({
        kafka: { brokers, clientId: name, engine: "platformatic", groupProtocol: "consumer" },
        http: { listen: false },
        consumers: [{ name: "c", group, topic, handler: fixtureHandler("record.ts") }],
      });
    const daemons: DaemonProcess[] = [];
    try {
      proxy.delay(API.offsetCommit, COMMIT_HELD_MS);
      const a = startDaemon(await config("a", proxy.brokers));
      daemons.push(a);
      await a.waitForLog("partitions assigned", { where: (r) => String(r.partitions) === "0,1" });
      const b = startDaemon(await config("b", BROKERS));
      daemons.push(b);
      await waitFor(() => b.handled().length >= 10, {
        what: "b handles the 10 messages of the partition a gave up",
        timeoutMs: 60_000,
      });
      const moved = b.handled()[0]!.partition;
      await waitFor(async () => {
        const committed = await admin.committed(group, topic);
        return committed.find((c) => c.partition === moved)?.offset === "20";
      }, { what: "b commits 20 on the partition it got" });
      // a's commits sent before it released the partition, and any sent again (a stale epoch is
      // refused and retried under the new one, held back again), have all been answered by now.
      await sleep(2 * COMMIT_HELD_MS);
      await waitFor(() => proxy.requests(API.offsetCommit).every((r) => r.answeredAt !== null), {
        what: "a's held-back commits answered",
        timeoutMs: 30_000,
      });
      const committed = await admin.committed(group, topic);
      assert.equal(
        committed.find((c) => c.partition === moved)?.offset,
        "20",
        "a's commit of the partition's start position landed after b's offsets",
      );
      assert.deepEqual(b.handled().map((h) => h.offset), range(10, 20));
    } finally {
      for (const d of daemons) d.kill("SIGKILL");
      await Promise.all(daemons.map((d) => d.exited()));
      proxy.close();
    }
  });
});

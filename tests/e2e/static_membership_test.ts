/**
 * Static membership (`kafka.instanceId`): two daemons in one group on a
 * 4-partition topic under steady load. A daemon restarted within the
 * session timeout (SIGTERM, or SIGKILL) takes its own partitions back and
 * the other daemon sees no rebalance; a daemon that stays away longer than
 * the session timeout has its partitions handed over, and not before (and
 * gets a share back through a rebalance when it returns). Nothing produced
 * is lost.
 */
import assert from "node:assert/strict";
import {
  assignments,
  crashingOnce,
  crashWorker,
  Fleet,
  type FleetRun,
  holds,
  resumedAt,
  sharing,
} from "../harness/fleet.ts";
import { steadyLoad, uniqueName, waitFor, withTopic } from "../harness/kafka.ts";
import { describeConsumerGroup } from "../harness/consumer_group.ts";
import { startKafkaProxy } from "../harness/kafka_proxy.ts";

const PARTITIONS = 4;
const SESSION_TIMEOUT_MS = 8_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Waits until `a` and `b` share every partition; returns what each holds. */
async function shared(a: FleetRun, b: FleetRun): Promise<[number[], number[]]> {
  const [heldA, heldB] = await sharing([a, b], PARTITIONS);
  return [heldA!, heldB!];
}

/** Waits until `run` handled a message of each of `partitions`; returns how long after its start, ms. */
async function resumed(fleet: Fleet, run: FleetRun, partitions: number[]): Promise<number> {
  return await resumedAt(fleet, run, partitions) - run.startedAt;
}

Deno.test({
  name:
    "static membership (classic): a daemon restarted within the session timeout takes its partitions back with no rebalance of the other; one that stays away is replaced after the timeout (long)",
  // 22 s, waiting out a session timeout: `deno task test:long` (the default suite keeps the
  // classic instance-id conflict test, tests/e2e/instance_id_conflict_test.ts).
  ignore: Deno.env.get("CONSUMERD_LONG_TESTS") !== "1",
}, async (t) => {
  await withTopic({ partitions: PARTITIONS, prefix: "static" }, async ({ topic, admin }) => {
    const crash = await crashingOnce();
    const fleet = new Fleet({
      group: uniqueName("g"),
      topic,
      protocol: "classic",
      static: true,
      sessionTimeoutMs: SESSION_TIMEOUT_MS,
      consumer: crash.consumer,
      env: crash.env,
    });
    const load = steadyLoad(admin, topic, { batch: 4, intervalMs: 100, partitions: PARTITIONS });
    let stopped = false;
    try {
      const b = await fleet.start("b");
      let a = await fleet.start("a");
      const [heldA, heldB] = await shared(a, b);
      const bAssignments = assignments(b).length;

      await t.step(
        "SIGTERM, start again 2 s later: same partitions, b not rebalanced",
        async () => {
          assert.equal(await a.process.stop(), 0, "a drains and exits 0");
          await sleep(2_000);
          assert.equal(assignments(b).length, bAssignments, "b saw no rebalance while a was away");
          a = await fleet.start("a");
          const ms = await resumed(fleet, a, heldA);
          assert.deepEqual(holds(a), heldA, "a got its own partitions back");
          assert.equal(assignments(a).length, 1, "in one assignment");
          assert.equal(assignments(b).length, bAssignments, "b saw no rebalance when a came back");
          console.log(`SIGTERM restart: a handled each of its partitions ${ms} ms after its start`);
        },
      );

      await t.step(
        "SIGKILL, start again 2 s later: same partitions, b not rebalanced",
        async () => {
          a.process.kill("SIGKILL");
          await a.process.exited();
          await sleep(2_000);
          a = await fleet.start("a");
          const ms = await resumed(fleet, a, heldA);
          assert.deepEqual(holds(a), heldA, "a got its own partitions back");
          assert.equal(assignments(b).length, bAssignments, "b saw no rebalance");
          console.log(`SIGKILL restart: a handled each of its partitions ${ms} ms after its start`);
        },
      );

      await t.step(
        "a's worker crashes: its replacement takes the partitions back, b not rebalanced",
        async () => {
          await crashWorker(admin, topic, fleet, a, heldA);
          assert.equal(assignments(b).length, bAssignments, "b saw no rebalance");
        },
      );

      await t.step(
        "SIGKILL, no restart: b gets a's partitions after the session timeout, not before",
        async () => {
          a.process.kill("SIGKILL");
          await a.process.exited();
          const killedAt = Date.now();
          await waitFor(() => holds(b)?.length === PARTITIONS, {
            what: "b holds every partition",
            timeoutMs: SESSION_TIMEOUT_MS + 15_000,
          });
          const movedMs = Date.now() - killedAt;
          assert.ok(
            movedMs >= SESSION_TIMEOUT_MS - 1_000,
            `a's partitions moved ${movedMs} ms after the kill, before the session timeout`,
          );
          assert.deepEqual([...heldA, ...heldB].sort(), holds(b));
          console.log(`SIGKILL without restart: a's partitions moved to b after ${movedMs} ms`);
        },
      );

      await t.step(
        "a comes back after the session timeout: a rebalance gives it a share again",
        async () => {
          a = await fleet.start("a");
          await shared(a, b);
        },
      );

      const sent = await load.stop();
      stopped = true;
      await waitFor(() => new Set(fleet.handled().map((h) => h.value)).size === sent + 1, {
        what: `all ${sent} messages (and "crash") handled`,
      });
      assert.equal(await b.process.stop(), 0);
    } finally {
      if (!stopped) await load.stop();
      await fleet.kill();
      await crash.remove();
    }
  });
});

/** The broker's group.consumer.session.timeout.ms (Kafka's default; the dev broker keeps it). */
const CONSUMER_SESSION_TIMEOUT_MS = 45_000;

Deno.test({
  name:
    "static membership (consumer protocol): a SIGKILLed daemon restarted at once waits for its predecessor's session to end; its partitions are not handed over before (long)",
  ignore: Deno.env.get("CONSUMERD_LONG_TESTS") !== "1",
}, async () => {
  await withTopic({ partitions: PARTITIONS, prefix: "static848" }, async ({ topic, admin }) => {
    const fleet = new Fleet({ group: uniqueName("g"), topic, protocol: "consumer", static: true });
    const load = steadyLoad(admin, topic, { batch: 4, intervalMs: 100, partitions: PARTITIONS });
    let stopped = false;
    try {
      const b = await fleet.start("b");
      let a = await fleet.start("a");
      const [heldA] = await shared(a, b);
      const bAssignments = assignments(b).length;
      a.process.kill("SIGKILL");
      await a.process.exited();
      const killedAt = Date.now();
      await sleep(2_000);
      a = await fleet.start("a");
      await a.process.waitForLog("the instance id is held by another member; trying again");
      // Until the broker expires the killed member, nobody reads its partitions.
      await sleep(CONSUMER_SESSION_TIMEOUT_MS - 8_000);
      assert.equal(assignments(b).length, bAssignments, "b got nothing of a's before the timeout");
      assert.deepEqual(holds(a), null, "nor did a's new run");
      const [, heldB] = await shared(a, b);
      const movedMs = Date.now() - killedAt;
      console.log(
        `a's predecessor expired and a holds ${holds(a)} (it held ${heldA}), b ${heldB}, ` +
          `${movedMs} ms after the kill`,
      );
      const sent = await load.stop();
      stopped = true;
      await waitFor(() => new Set(fleet.handled().map((h) => h.value)).size === sent, {
        what: `all ${sent} messages handled`,
      });
    } finally {
      if (!stopped) await load.stop();
      await fleet.kill();
    }
  });
});

/** ConsumerGroupHeartbeat's API key. */
const CONSUMER_GROUP_HEARTBEAT = 68;

Deno.test({
  name:
    "static membership (consumer protocol): a shutdown whose leave-for-a-while takes long is not turned into a removal; the restart still takes the partitions back with no rebalance (long)",
  ignore: Deno.env.get("CONSUMERD_LONG_TESTS") !== "1",
}, async () => {
  await withTopic({ partitions: PARTITIONS, prefix: "static-slow" }, async ({ topic }) => {
    const group = uniqueName("g");
    const proxy = await startKafkaProxy();
    const fleet = new Fleet({ group, topic, protocol: "consumer", static: true });
    const slow = new Fleet({
      group,
      topic,
      protocol: "consumer",
      static: true,
      brokers: proxy.brokers,
    });
    try {
      const b = await fleet.start("b");
      let a = await slow.start("a");
      const [heldA] = await sharing([a, b], PARTITIONS);
      const epochB = (await describeConsumerGroup(group)).members
        .find((m) => m.instanceId === "b.c.0")!.memberEpoch;
      // The coordinator answers a's heartbeats 5 s late: its leave-for-a-while outlasts the
      // worker's 3 s wait for leaving.
      proxy.delay(CONSUMER_GROUP_HEARTBEAT, 5_000);
      assert.equal(await a.process.stop(), 0);
      proxy.delay(CONSUMER_GROUP_HEARTBEAT, 0);
      assert.equal(a.process.logged("dead worker's group member removed").length, 0, "not removed");
      a = await slow.start("a");
      await waitFor(() => holds(a)?.join() === heldA!.join(), {
        what: "a holds its partitions again",
        timeoutMs: 30_000,
      });
      const after = (await describeConsumerGroup(group)).members
        .find((m) => m.instanceId === "b.c.0")!.memberEpoch;
      assert.equal(after, epochB, "b's member epoch did not change: no rebalance");
    } finally {
      await fleet.kill();
      await slow.kill();
      proxy.close();
    }
  });
});

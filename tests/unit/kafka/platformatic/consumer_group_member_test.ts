/**
 * The consumer-protocol member's state machine under orders of events a
 * broker cannot be made to produce on cue: a fence while a release is
 * still draining, a new assignment while one is being taken in. The
 * broker is a script of ConsumerGroupHeartbeat answers; everything the
 * member sends is recorded.
 */
import assert from "node:assert/strict";
import {
  ConsumerGroupMember,
  type ConsumerGroupMemberOptions,
} from "../../../../src/kafka/platformatic/consumer_group_member.ts";
import type { PlatformaticClient } from "../../../../src/kafka/platformatic/client.ts";
import { createLogger } from "../../../../src/log.ts";

const TOPIC_ID = "topic-id";

/** What the member sent: its epoch and the partitions it said it holds. */
interface Sent {
  epoch: number;
  owned: number[];
}

type Answer = { epoch: number; assignment?: number[] } | { error: string };

/** A broker that answers each heartbeat with the next of `answers` (then "unchanged"). */
function scriptedBroker(answers: Answer[]) {
  const sent: Sent[] = [];
  let last = 0;
  const client = {
    group: "g",
    topic: "t",
    instanceId: null,
    callCoordinator(_name: string, args: (version: number) => unknown[]) {
      const [, , epoch, , , , , , , owned] = args(1) as [
        unknown,
        unknown,
        number,
        ...unknown[],
      ];
      const partitions = (owned as Array<{ partitions: number[] }>).flatMap((t) => t.partitions);
      sent.push({ epoch, owned: partitions });
      const answer = answers.shift();
      if (answer !== undefined && "error" in answer) {
        return Promise.reject(Object.assign(new Error(answer.error), { apiId: answer.error }));
      }
      if (answer !== undefined) last = answer.epoch;
      return Promise.resolve({
        memberId: null,
        memberEpoch: answer?.epoch ?? last,
        heartbeatIntervalMs: 5,
        assignment: answer?.assignment === undefined
          ? null
          : { topicPartitions: [{ topicId: TOPIC_ID, partitions: answer.assignment }] },
      });
    },
    refreshCoordinator: () => Promise.resolve(),
  };
  return { client: client as unknown as PlatformaticClient, sent };
}

/** A promise and its resolver. */
function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

/** A dynamic member of the scripted broker's group, with these session callbacks. */
function memberOf(
  client: PlatformaticClient,
  session: Pick<ConsumerGroupMemberOptions, "reconcile" | "lose">,
): ConsumerGroupMember {
  return new ConsumerGroupMember({
    client,
    topicId: TOPIC_ID,
    daemonInstanceId: "",
    serverAssignor: null,
    rebalanceTimeoutMs: 60_000,
    logger: createLogger({ level: "error" }),
    ...session,
    onMembership: () => {},
    onWaiting: () => {},
    onFatal: (error) => assert.fail(`fatal: ${error}`),
  });
}

const until = async (fn: () => boolean, what: string) => {
  for (let i = 0; i < 200 && !fn(); i++) await new Promise((r) => setTimeout(r, 5));
  assert.ok(fn(), what);
};

Deno.test("ConsumerGroupMember tells the broker a partition is released only once reconcile() drained it", async () => {
  const { client, sent } = scriptedBroker([
    { epoch: 1, assignment: [0, 1, 2] },
    { epoch: 1 }, // the answer to the acknowledgement
    { epoch: 1, assignment: [0, 1] }, // 2 must go
  ]);
  const targets: number[][] = [];
  const release = deferred();
  const member = memberOf(client, {
    reconcile: (target) => {
      targets.push(target);
      return target.length === 2 ? release.promise : Promise.resolve();
    },
    lose: () => Promise.resolve(),
  });
  member.start();
  await until(() => targets.length === 2, "reconcile asked for [0, 1]");
  const whileDraining = sent.length;
  await new Promise((r) => setTimeout(r, 40)); // a few heartbeats while 2 drains
  assert.ok(sent.length > whileDraining, "it heartbeats while draining");
  assert.ok(
    sent.slice(whileDraining).every((s) => s.owned.join() === "0,1,2"),
    "and still says it holds 2",
  );
  release.resolve();
  await until(() => sent.at(-1)?.owned.join() === "0,1", "then it says 2 is released");
  await member.leave({ forAWhile: false });
  assert.deepEqual(sent.at(-1), { epoch: -1, owned: [] }, "it leaves with epoch -1");
});

Deno.test("ConsumerGroupMember: a fence while a release drains voids that release; the join's answer is taken in after it", async () => {
  const { client, sent } = scriptedBroker([
    { epoch: 1, assignment: [0, 1, 2] },
    { epoch: 1 },
    { epoch: 1, assignment: [0, 1] },
    { error: "FENCED_MEMBER_EPOCH" },
    { epoch: 3, assignment: [0] }, // the answer to the rejoin
  ]);
  const targets: number[][] = [];
  const events: string[] = [];
  const release = deferred();
  const member = memberOf(client, {
    reconcile: (target) => {
      targets.push(target);
      events.push(`reconcile ${target}`);
      return target.join() === "0,1" ? release.promise : Promise.resolve();
    },
    lose: () => {
      events.push("lose");
      return Promise.resolve();
    },
  });
  member.start();
  await until(() => events.includes("lose"), "the fence arrives while 2 drains");
  await until(() => sent.some((s) => s.epoch === 0 && sent.indexOf(s) > 0), "it rejoins");
  await new Promise((r) => setTimeout(r, 30));
  assert.deepEqual(targets, [[0, 1, 2], [0, 1]], "the rejoin's answer waits for the drain");
  release.resolve();
  await until(() => targets.length === 3, "then it takes the rejoin's answer in");
  assert.deepEqual(targets[2], [0]);
  await until(() => sent.at(-1)?.owned.join() === "0", "and says it holds 0");
  assert.ok(
    !sent.some((s) => s.epoch === 3 && s.owned.join() === "0,1"),
    "it never claims the partitions it lost",
  );
  await member.leave({ forAWhile: true });
  assert.equal(sent.at(-1)?.epoch, -1, "a dynamic member leaves for good even when asked to wait");
});

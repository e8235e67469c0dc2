import assert from "node:assert/strict";
import { StartSettler } from "../../../src/supervisor/start_settler.ts";

Deno.test("StartSettler waits until every replica has its first assignment", () => {
  const s = new StartSettler({ replicas: 3, resetOnStart: true });
  assert.deepEqual(s.assigned(0, 1, [0, 1, 2]), []);
  assert.deepEqual(s.assigned(1, 1, [1]), []);
  assert.equal(s.settled, false);
  const replies = s.assigned(2, 1, [2]);
  assert.equal(s.settled, true);
  assert.deepEqual(s.heldAtStart, [0, 1, 2]);
  // Replica 0's first assignment is the oldest report of partitions 1 and 2:
  // replicas 1 and 2 wait for its outcome.
  assert.deepEqual(replies, [{ replica: 0, generation: 1, resetOnStart: [0, 1, 2] }]);
  // Its assignment was replaced by the rebalance: it re-joins with [0] and abandons.
  assert.deepEqual(s.assigned(0, 2, [0]), []);
  assert.deepEqual(s.started(0, 1, [], [0, 1, 2]), [
    { replica: 1, generation: 1, resetOnStart: [1] },
    { replica: 2, generation: 1, resetOnStart: [2] },
    { replica: 0, generation: 2, resetOnStart: [0] },
  ]);
});

Deno.test("StartSettler resets each partition once however partitions moved while replicas joined", () => {
  const s = new StartSettler({ replicas: 2, resetOnStart: true });
  s.assigned(0, 1, [0, 1, 2]);
  // Replica 1 joins; the rebalance moves partition 2 to it, and replica 0 re-joins.
  assert.deepEqual(s.assigned(1, 1, [2]), [{ replica: 0, generation: 1, resetOnStart: [0, 1, 2] }]);
  // Replica 0 already moved on to generation 2 ([0, 1]) before it could reset: it asks again…
  assert.deepEqual(s.assigned(0, 2, [0, 1]), [], "0 and 1 are still in flight for generation 1");
  // …and abandons generation 1's resets: replica 1 (waiting with [2]) and replica 0's new assignment are answered.
  assert.deepEqual(s.started(0, 1, [], [0, 1, 2]), [
    { replica: 1, generation: 1, resetOnStart: [2] },
    { replica: 0, generation: 2, resetOnStart: [0, 1] },
  ]);
  // Replica 1 moved on to generation 2 too (still holding 2): it abandons generation 1 and asks again.
  assert.deepEqual(s.assigned(1, 2, [2]), []);
  assert.deepEqual(s.started(1, 1, [], [2]), [{ replica: 1, generation: 2, resetOnStart: [2] }]);
  s.started(0, 2, [0, 1], []);
  assert.equal(s.ready, false);
  s.started(1, 2, [2], []);
  assert.equal(s.ready, true);
  // A later assignment never resets.
  assert.deepEqual(s.assigned(0, 3, [0, 1, 2]), [{ replica: 0, generation: 3, resetOnStart: [] }]);
});

Deno.test("StartSettler makes a replica wait for a reset in flight elsewhere, and skips it once committed", () => {
  const s = new StartSettler({ replicas: 2, resetOnStart: true });
  s.assigned(0, 1, [0, 1]);
  s.assigned(1, 1, []);
  // Partition 1 moves to replica 1 while replica 0 commits its reset.
  assert.deepEqual(s.assigned(1, 2, [1]), []);
  assert.deepEqual(s.started(0, 1, [0, 1], []), [{ replica: 1, generation: 2, resetOnStart: [] }]);
});

Deno.test("StartSettler puts a gone replica's unconfirmed resets back to pending", () => {
  const s = new StartSettler({ replicas: 2, resetOnStart: true });
  s.assigned(0, 1, [0]);
  s.assigned(1, 1, [1]);
  assert.deepEqual(s.gone(1), []);
  // Its replacement (a recovery) still performs the reset decided at start.
  assert.deepEqual(s.assigned(1, 1, [1]), [{ replica: 1, generation: 1, resetOnStart: [1] }]);
});

Deno.test("StartSettler never resets without resetOffsetOnStart", () => {
  const s = new StartSettler({ replicas: 1, resetOnStart: false });
  assert.deepEqual(s.assigned(0, 1, [0, 1]), [{ replica: 0, generation: 1, resetOnStart: [] }]);
  s.started(0, 1, [0, 1], []);
  assert.equal(s.ready, true);
});

Deno.test("StartSettler.forceSettle() settles with the replicas that joined", () => {
  const s = new StartSettler({ replicas: 3, resetOnStart: true });
  s.assigned(0, 1, [0, 1, 2]);
  assert.deepEqual(s.forceSettle(), [{ replica: 0, generation: 1, resetOnStart: [0, 1, 2] }]);
  assert.deepEqual(s.assigned(1, 1, [1]), [], "1 is in flight for replica 0");
});

Deno.test("StartSettler rejects replica numbers outside 0..replicas-1", () => {
  const s = new StartSettler({ replicas: 2, resetOnStart: true });
  assert.throws(() => s.assigned(2, 1, []), /replicas are numbered 0\.\.1/);
  assert.throws(() => new StartSettler({ replicas: 0, resetOnStart: true }), /current value is 0/);
});

Deno.test("StartSettler drops a reset whose partition left the daemon before it was committed", () => {
  const s = new StartSettler({ replicas: 2, resetOnStart: true });
  s.assigned(0, 1, [0, 1]);
  assert.deepEqual(s.assigned(1, 1, [2, 3]), [
    { replica: 0, generation: 1, resetOnStart: [0, 1] },
    { replica: 1, generation: 1, resetOnStart: [2, 3] },
  ]);
  // A second daemon joins: both replicas rebalance; partitions 1 and 3 move to it.
  s.joining(0);
  s.joining(1);
  s.assigned(0, 2, [0]);
  s.started(1, 1, [2, 3], []);
  assert.deepEqual(s.started(0, 1, [], [0, 1]), [{ replica: 0, generation: 2, resetOnStart: [0] }]);
  assert.deepEqual(s.takeDropped(), [], "replica 1 is still rebalancing");
  assert.deepEqual(s.assigned(1, 2, [2]), [{ replica: 1, generation: 2, resetOnStart: [] }]);
  s.started(0, 2, [0], []);
  s.started(1, 2, [2], []);
  assert.deepEqual(s.takeDropped(), [1], "partition 1 is held by no replica: it left the daemon");
  assert.equal(s.ready, true);
  // Hours later partition 1 returns through a rebalance: it resumes from committed.
  s.joining(0);
  assert.deepEqual(s.assigned(0, 3, [0, 1]), [{ replica: 0, generation: 3, resetOnStart: [] }]);
});

Deno.test("StartSettler keeps a reset while its partition moves between the daemon's own replicas", () => {
  const s = new StartSettler({ replicas: 2, resetOnStart: true });
  s.assigned(0, 1, [0, 1]);
  assert.deepEqual(s.assigned(1, 1, []), [
    { replica: 0, generation: 1, resetOnStart: [0, 1] },
    { replica: 1, generation: 1, resetOnStart: [] },
  ]);
  // Partition 1 moves from replica 0 to replica 1 before replica 0 reset it.
  s.joining(0);
  s.joining(1);
  assert.deepEqual(s.assigned(0, 2, [0]), []);
  assert.deepEqual(s.started(0, 1, [], [0, 1]), [{ replica: 0, generation: 2, resetOnStart: [0] }]);
  s.started(1, 1, [], []);
  s.started(0, 2, [0], []);
  assert.deepEqual(s.takeDropped(), [], "replica 1's next assignment is still coming");
  assert.deepEqual(s.assigned(1, 2, [1]), [{ replica: 1, generation: 2, resetOnStart: [1] }]);
});

Deno.test("StartSettler drops a dead worker's reset once its replacement joined without the partition", () => {
  const s = new StartSettler({ replicas: 2, resetOnStart: true });
  s.assigned(0, 1, [0]);
  s.assigned(1, 1, [1]);
  s.started(0, 1, [0], []);
  // Replica 1 dies before committing its reset of partition 1, which moves to another daemon.
  assert.deepEqual(s.gone(1), []);
  assert.deepEqual(s.takeDropped(), [], "its replacement is still joining");
  assert.deepEqual(s.assigned(1, 1, []), [{ replica: 1, generation: 1, resetOnStart: [] }]);
  s.started(1, 1, [], []);
  assert.deepEqual(s.takeDropped(), [1]);
  assert.equal(s.ready, true);
});

const decided = (partition: number, offset: string) =>
  ({ partition, offset, reason: "reset-on-start", committed: "3" }) as const;

Deno.test("StartSettler hands an abandoned start's decided resets to the partition's next start, wherever it goes in the daemon", () => {
  const s = new StartSettler({ replicas: 2, resetOnStart: true });
  s.assigned(0, 1, [0, 1]);
  s.assigned(1, 1, []);
  s.decided(0, 1, [decided(0, "10"), decided(1, "20")]);
  // A rebalance before the start was confirmed: 0 stays with replica 0, 1 moves to replica 1.
  s.joining(0);
  s.joining(1);
  s.assigned(0, 2, [0]);
  assert.deepEqual(s.started(0, 1, [], [0, 1]), [
    { replica: 0, generation: 2, resetOnStart: [0], decided: [decided(0, "10")] },
  ]);
  s.started(1, 1, [], []);
  assert.deepEqual(s.assigned(1, 2, [1]), [
    { replica: 1, generation: 2, resetOnStart: [1], decided: [decided(1, "20")] },
  ]);
});

Deno.test("StartSettler keeps a gone worker's decided resets for its replacement, and forgets them once started", () => {
  const s = new StartSettler({ replicas: 1, resetOnStart: true });
  s.assigned(0, 1, [0]);
  s.decided(0, 1, [decided(0, "10")]);
  s.gone(0);
  assert.deepEqual(s.assigned(0, 1, [0]), [
    { replica: 0, generation: 1, resetOnStart: [0], decided: [decided(0, "10")] },
  ]);
  s.started(0, 1, [0], []);
  assert.equal(s.ready, true);
  s.gone(0);
  assert.deepEqual(s.assigned(0, 1, [0]), [{ replica: 0, generation: 1, resetOnStart: [] }]);
});

Deno.test("StartSettler ignores resets decided for an assignment not answered with them, and forgets dropped ones", () => {
  const s = new StartSettler({ replicas: 1, resetOnStart: true });
  s.assigned(0, 1, [0, 1]);
  s.decided(0, 2, [decided(0, "10")]); // not the generation its resets are in flight for
  s.decided(0, 1, [decided(1, "20")]);
  s.joining(0);
  s.assigned(0, 2, [0]);
  assert.deepEqual(s.started(0, 1, [], [0, 1]), [{ replica: 0, generation: 2, resetOnStart: [0] }]);
  s.started(0, 2, [0], []);
  assert.deepEqual(s.takeDropped(), [1], "partition 1 left the daemon");
  // It comes back: no reset, and no decision of the dropped one.
  s.joining(0);
  assert.deepEqual(s.assigned(0, 3, [0, 1]), [{ replica: 0, generation: 3, resetOnStart: [] }]);
});

Deno.test("StartSettler waits while a partition a replica gave up moves to another (consumer protocol), and resets it there", () => {
  const s = new StartSettler({ replicas: 3, resetOnStart: true, movesInTwoSteps: true });
  s.assigned(1, 1, [0, 1, 2]);
  // The coordinator takes partition 2 back for replica 0, which gets it at its next heartbeat.
  s.assigned(1, 2, [0, 1]);
  s.assigned(2, 1, []);
  assert.deepEqual(s.assigned(0, 1, []), []);
  assert.deepEqual([s.settled, s.moving], [false, true]);
  const replies = s.assigned(0, 2, [2]);
  assert.deepEqual([s.settled, s.moving], [true, false]);
  assert.deepEqual(s.heldAtStart, [0, 1, 2]);
  assert.deepEqual(replies, [
    { replica: 1, generation: 2, resetOnStart: [0, 1] },
    { replica: 2, generation: 1, resetOnStart: [] },
    { replica: 0, generation: 2, resetOnStart: [2] },
  ]);
});

Deno.test("StartSettler settled by force while a partition is away holds only what the replicas hold; it never resets that one", () => {
  const s = new StartSettler({ replicas: 2, resetOnStart: true, movesInTwoSteps: true });
  s.assigned(0, 1, [0, 1]);
  s.assigned(0, 2, [0]); // partition 1 went to another daemon's member
  s.assigned(1, 1, []);
  assert.equal(s.moving, true);
  assert.deepEqual(s.forceSettle(), [
    { replica: 0, generation: 2, resetOnStart: [0] },
    { replica: 1, generation: 1, resetOnStart: [] },
  ]);
  assert.deepEqual(s.heldAtStart, [0]);
  assert.equal(s.moving, false);
  // It comes back later, through a rebalance: it resumes from committed.
  s.started(0, 2, [0], []);
  assert.deepEqual(s.assigned(1, 2, [1]), [{ replica: 1, generation: 2, resetOnStart: [] }]);
});

Deno.test("StartSettler under the classic protocol settles at the last first assignment, whatever was given up before", () => {
  const s = new StartSettler({ replicas: 2, resetOnStart: true });
  s.assigned(0, 1, [0, 1]);
  s.assigned(0, 2, [0]);
  s.assigned(1, 2, []);
  assert.deepEqual([s.settled, s.moving, s.heldAtStart], [true, false, [0]]);
});

Deno.test("StartSettler keeps a reset while a partition revoked after the start is on its way to another replica (consumer protocol)", () => {
  // The sequence of a daemon with three replicas whose first member got every partition.
  const s = new StartSettler({ replicas: 3, resetOnStart: true, movesInTwoSteps: true });
  s.assigned(0, 1, [0, 1, 2]);
  s.assigned(1, 1, []);
  assert.deepEqual(s.assigned(2, 1, []), [
    { replica: 0, generation: 1, resetOnStart: [0, 1, 2] },
    { replica: 1, generation: 1, resetOnStart: [] },
    { replica: 2, generation: 1, resetOnStart: [] },
  ]);
  s.started(1, 1, [], []);
  s.started(2, 1, [], []);
  // The coordinator takes 1 and 2 back from replica 0 before it reset them; 2 reaches replica 1.
  s.assigned(0, 3, [0]);
  assert.deepEqual(s.started(0, 1, [], [0, 1, 2]), [
    { replica: 0, generation: 3, resetOnStart: [0] },
  ]);
  assert.deepEqual(s.assigned(1, 2, [2]), [{ replica: 1, generation: 2, resetOnStart: [2] }]);
  s.started(1, 2, [2], []);
  s.started(0, 3, [0], []);
  // Partition 1 is held by no replica: under this protocol it may be on its way to one.
  assert.deepEqual(s.takeDropped(), [], "partition 1 may still reach a replica");
  assert.equal(s.moving, true);
  assert.equal(s.ready, false);
  assert.deepEqual(s.assigned(2, 2, [1]), [{ replica: 2, generation: 2, resetOnStart: [1] }]);
  assert.equal(s.moving, false);
  s.started(2, 2, [1], []);
  assert.equal(s.ready, true);
});

/** A settler under the consumer protocol on a clock the test moves. */
function twoSteps(replicas: number) {
  const clock = { ms: 0 };
  const s = new StartSettler({
    replicas,
    resetOnStart: true,
    movesInTwoSteps: true,
    now: () => clock.ms,
  });
  return { s, clock };
}

/** Two replicas, settled: replica 0 reset partition 0 and gave up partition 1 (at 0 ms) before its reset. */
function partitionOneAway() {
  const { s, clock } = twoSteps(2);
  s.assigned(0, 1, [0, 1]);
  s.assigned(1, 1, []);
  s.started(1, 1, [], []);
  s.assigned(0, 2, [0]);
  s.started(0, 1, [], [0, 1]);
  s.started(0, 2, [0], []);
  return { s, clock };
}

Deno.test("StartSettler drops a reset whose partition stayed away after the start once it was away waitMs (consumer protocol)", () => {
  const { s, clock } = twoSteps(2);
  s.assigned(0, 1, [0, 1]);
  s.assigned(1, 1, []);
  s.started(1, 1, [], []);
  s.assigned(0, 2, [0]); // partition 1 went to another daemon's member
  assert.deepEqual(s.started(0, 1, [], [0, 1]), [{ replica: 0, generation: 2, resetOnStart: [0] }]);
  clock.ms = 1_000;
  s.started(0, 2, [0], []);
  assert.deepEqual([s.moving, s.ready, s.takeDropped()], [true, false, []]);
  clock.ms = 10_999;
  assert.deepEqual(s.expireMoves(10_000), []);
  assert.deepEqual([s.moving, s.takeDropped()], [true, []], "away since 1000 ms");
  clock.ms = 11_000;
  assert.deepEqual(s.expireMoves(10_000), []);
  assert.deepEqual(s.takeDropped(), [1]);
  assert.deepEqual([s.moving, s.ready], [false, true]);
  // It comes back later: it resumes from committed.
  assert.deepEqual(s.assigned(1, 2, [1]), [{ replica: 1, generation: 2, resetOnStart: [] }]);
});

Deno.test("StartSettler measures each departure on its own: a partition that arrives and leaves again waits anew", () => {
  const { s, clock } = partitionOneAway();
  assert.equal(s.moving, true, "partition 1 left replica 0 at 0 ms");
  clock.ms = 9_200;
  assert.deepEqual(s.assigned(1, 2, [1]), [{ replica: 1, generation: 2, resetOnStart: [1] }]);
  // Taken back before replica 1 committed its reset: on its way again.
  clock.ms = 9_300;
  s.assigned(1, 3, []);
  s.started(1, 2, [], [1]);
  s.started(1, 3, [], []);
  assert.equal(s.moving, true);
  clock.ms = 10_500;
  s.expireMoves(10_000);
  assert.deepEqual(s.takeDropped(), [], "away since 9300 ms, not since 0");
  clock.ms = 19_300;
  s.expireMoves(10_000);
  assert.deepEqual(s.takeDropped(), [1]);
});

Deno.test("StartSettler does not count a partition's time away while a replica joins (it may bring it)", () => {
  const { s, clock } = partitionOneAway();
  assert.equal(s.moving, true);
  // Replica 1's worker dies and its replacement takes 30 s to join.
  clock.ms = 1_000;
  s.gone(1);
  assert.equal(s.moving, false);
  clock.ms = 31_000;
  s.assigned(1, 1, []);
  s.started(1, 1, [], []);
  assert.equal(s.moving, true);
  s.expireMoves(10_000);
  assert.deepEqual(s.takeDropped(), [], "away for the wait only since the replacement joined");
  clock.ms = 35_000;
  assert.deepEqual(s.assigned(1, 2, [1]), [{ replica: 1, generation: 2, resetOnStart: [1] }]);
});

Deno.test("StartSettler before the start settled expires a move only when every partition on its way is late", () => {
  const { s, clock } = twoSteps(3);
  s.assigned(0, 1, [0, 1, 2]);
  s.assigned(1, 1, []);
  s.assigned(0, 2, [0, 1]); // 2 given up
  assert.deepEqual(s.assigned(2, 1, []), []);
  assert.equal(s.moving, true, "partition 2 away since 0 ms");
  clock.ms = 6_000;
  s.assigned(0, 3, [0]); // 1 given up too
  clock.ms = 10_500;
  assert.deepEqual(s.expireMoves(10_000), []);
  assert.equal(s.settled, false, "partition 1 is away since 6000 ms only");
  clock.ms = 16_000;
  assert.deepEqual(s.expireMoves(10_000), [
    { replica: 0, generation: 3, resetOnStart: [0] },
    { replica: 1, generation: 1, resetOnStart: [] },
    { replica: 2, generation: 1, resetOnStart: [] },
  ]);
  assert.deepEqual(s.heldAtStart, [0]);
});

Deno.test("StartSettler keeps waiting for a partition on its way once the group protocol changed to the consumer protocol", () => {
  const s = new StartSettler({ replicas: 2, resetOnStart: true });
  s.assigned(0, 1, [0, 1]);
  s.assigned(1, 1, []);
  s.expectTwoStepMoves(); // a reload of kafka.groupProtocol while the start settles
  s.started(1, 1, [], []);
  s.assigned(0, 2, [0]);
  s.started(0, 1, [], [0, 1]);
  s.started(0, 2, [0], []);
  assert.deepEqual([s.moving, s.takeDropped()], [true, []]);
  assert.deepEqual(s.assigned(1, 2, [1]), [{ replica: 1, generation: 2, resetOnStart: [1] }]);
});

Deno.test("StartSettler.expectTwoStepMoves() is never undone: a start that waits for a partition goes on waiting", () => {
  // Workers of the consumer protocol may still report after a reload to the classic protocol.
  const { s, clock } = partitionOneAway();
  s.expectTwoStepMoves();
  clock.ms = 100;
  s.expireMoves(10_000);
  assert.deepEqual([s.moving, s.takeDropped()], [true, []]);
});

Deno.test("StartSettler.rescale() keeps the resets the start owes: one on its way reaches a new replica, none is reset twice", () => {
  const { s } = partitionOneAway(); // partition 0 reset by replica 0; 1 owed, on its way
  assert.deepEqual(s.rescale(3), []);
  assert.equal(s.ready, false, "replica 2 joins, and partition 1 is owed its reset");
  assert.deepEqual(s.assigned(2, 1, [1]), [{ replica: 2, generation: 1, resetOnStart: [1] }]);
  s.started(2, 1, [1], []);
  assert.deepEqual(s.assigned(0, 3, [0]), [{ replica: 0, generation: 3, resetOnStart: [] }]);
  s.started(0, 3, [0], []);
  assert.equal(s.ready, true);
});

Deno.test("StartSettler.rescale() to fewer replicas hands a removed replica's unconfirmed reset to the one that gets its partition", () => {
  const s = new StartSettler({ replicas: 2, resetOnStart: true });
  s.assigned(0, 1, [0]);
  s.assigned(1, 1, [1]);
  s.started(0, 1, [0], []);
  // Replica 1 is scaled away before it confirmed its reset of partition 1; replica 0 learns
  // of the rebalance at its next heartbeat.
  assert.deepEqual(s.rescale(1), []);
  assert.deepEqual([s.moving, s.takeDropped()], [true, []]);
  s.joining(0);
  assert.deepEqual(s.assigned(0, 2, [0, 1]), [{ replica: 0, generation: 2, resetOnStart: [1] }]);
  assert.throws(() => s.assigned(1, 2, []), RangeError);
});

Deno.test("StartSettler.rescale() of a completed start resets nothing that reaches the daemon later", () => {
  const s = new StartSettler({ replicas: 1, resetOnStart: true });
  s.assigned(0, 1, [0, 1]);
  s.started(0, 1, [0, 1], []);
  assert.equal(s.ready, true);
  s.rescale(2);
  s.joining(0);
  assert.deepEqual(s.assigned(0, 2, [0]), [{ replica: 0, generation: 2, resetOnStart: [] }]);
  assert.deepEqual(s.assigned(1, 1, [1]), [{ replica: 1, generation: 1, resetOnStart: [] }]);
});

/**
 * The chaos soak's short version (`deno task soak` runs the full one):
 * 10,000 messages over 6 partitions into 2 daemons of 2 replicas, produced
 * steadily while the handler throws at random, workers kill themselves
 * every few seconds, one daemon is SIGTERMed and one SIGKILLed (each then
 * restarted), and the broker is down for 8 s. Nothing may be lost, nothing
 * handled out of order within a partition, and the group must end with
 * every partition committed at its high watermark. The SIGTERM lands while
 * a worker is inside a handler call that honours `ctx.signal`: that message
 * must not be dead-lettered (its attempts were not spent) but handled again
 * after the restart.
 *
 * Before the worker treated an abort at shutdown as "not finished" rather
 * than as a handler failure (issue 9, "a deploy dead-letters healthy
 * messages"), this test failed on "dead-lettered before the attempts were
 * spent".
 */
import assert from "node:assert/strict";
import { runSoak, SHORT } from "../soak/run.ts";

Deno.test("chaos soak (short): nothing lost, no order violation, committed = high watermark", async () => {
  const result = await runSoak(SHORT);
  console.log(`\n${result.table}\n\n${result.partitionTable}\n(evidence: ${result.dir})`);
  const { report } = result;
  assert.ok(report.kills > 0, "at least one worker killed itself");
  assert.equal(result.faults["daemon SIGKILL"], 1);
  assert.equal(result.faults["daemon SIGTERM"], 1);
  assert.equal(result.faults["broker outage"], 1);
  assert.ok(report.failedCalls > 0, "the handler threw at random");
  assert.ok(report.produced >= SHORT.messages);
  assert.deepEqual(report.lost.slice(0, 20), [], "lost messages (offsets)");
  assert.deepEqual(report.lostSeqs.slice(0, 20), [], "lost sequence numbers");
  assert.deepEqual(report.orderViolations.slice(0, 20), [], "order violations");
  assert.deepEqual(report.deadLetteredEarly, [], "dead-lettered before the attempts were spent");
  assert.deepEqual(
    report.uncommitted.map((p) => `p${p.partition} ${p.committed}/${p.high}`),
    [],
    "committed = high watermark",
  );
});

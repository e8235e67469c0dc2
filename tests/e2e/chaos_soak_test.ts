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
import { assertFaultsHappened, assertPromisesKept } from "../soak/assertions.ts";
import { runSoak, SHORT } from "../soak/run.ts";

Deno.test("chaos soak (short): nothing lost, no order violation, committed = high watermark", async () => {
  const result = await runSoak(SHORT);
  console.log(`\n${result.table}\n\n${result.partitionTable}\n(evidence: ${result.dir})`);
  assertFaultsHappened(result, SHORT.messages);
  assert.equal(result.faults["broker outage"], 1);
  assertPromisesKept(result);
});

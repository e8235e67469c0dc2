/**
 * The exactly-once chaos soak's short version (`deno task soak --eos` runs
 * the full one): 2,000 inputs over 6 partitions into 2 daemons of 2
 * replicas of a `delivery: exactly-once` consumer (engine platformatic)
 * whose handler produces one output per input (key and headers copied) and
 * a second output for one input in 10, before it throws (5 % of calls at
 * random, and every call of one input in 500) or dies. Meanwhile workers
 * kill themselves every 3 s, one daemon is SIGTERMed and the other
 * SIGKILLed, each then restarted. Read `read_committed`, every input is in
 * the outputs or the dead-letter topic exactly once, its second output
 * too, and the group committed every partition's high watermark.
 */
import assert from "node:assert/strict";
import { assertFaultsHappened, assertPromisesKept } from "../soak/assertions.ts";
import { EOS_SHORT, runSoak } from "../soak/run.ts";

Deno.test("exactly-once chaos soak (short): every input once in outputs ∪ dead letters read_committed, committed = high watermark", async () => {
  const result = await runSoak(EOS_SHORT);
  console.log(
    `\n${result.outputTable}\n\n${result.table}\n\n${result.partitionTable}\n(evidence: ${result.dir})`,
  );
  assertFaultsHappened(result, EOS_SHORT.messages);
  const { outputs } = result;
  assert.ok(outputs !== null);
  assert.ok(outputs.deadLettered > 0, "the poison inputs were dead-lettered");
  assert.deepEqual(outputs.lost.slice(0, 20), [], "inputs in no output nor dead letter");
  assert.deepEqual(outputs.repeated.slice(0, 20), [], "inputs more than once");
  assert.deepEqual(outputs.secondLost.slice(0, 20), [], "second outputs missing");
  assert.deepEqual(outputs.secondRepeated.slice(0, 20), [], "second outputs repeated");
  assert.equal(outputs.notCopied, 0, "outputs whose key or headers were not copied");
  assert.equal(outputs.strays, 0, "records naming no input");
  assertPromisesKept(result);
});

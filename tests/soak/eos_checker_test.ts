import assert from "node:assert/strict";
import {
  checkOutputs,
  formatOutputReport,
  type OutputObservation,
  type OutputRecord,
  outputsPassed,
} from "./eos_checker.ts";
import { parseReadBack } from "../harness/read_topic.ts";
import { deadLetterCopy } from "./checker.ts";

/** The output a handler produced for input `<partition>:<offset>` carrying sequence number `seq`. */
function output(partition: number, offset: number, seq: number): OutputRecord {
  return { input: `${partition}:${offset}`, key: `k${seq}`, id: String(seq), value: String(seq) };
}

/**
 * A clean run: partition 0 holds inputs 0..n-1 (sequence number = offset),
 * each with one output, and one second output for multiples of 10.
 */
function clean(n: number): OutputObservation {
  const outputs = Array.from({ length: n }, (_, o) => output(0, o, o));
  return {
    inputs: [{ partition: 0, low: "0", high: String(n), committed: String(n) }],
    outputs,
    seconds: outputs.filter((r) => Number(r.value) % 10 === 0),
    deadLettered: [],
    secondEvery: 10,
    uncommitted: { outputs: n, seconds: Math.ceil(n / 10), deadLettered: 0 },
  };
}

Deno.test("checkOutputs(): a clean run passes, every input exactly once", () => {
  const report = checkOutputs(clean(25));
  assert.equal(report.inputs, 25);
  assert.equal(report.exactlyOnce, 25);
  assert.equal(report.secondExpected, 3);
  assert.deepEqual(report.lost, []);
  assert.equal(report.duplicates, 0);
  assert.ok(outputsPassed(report));
});

Deno.test("checkOutputs(): an output committed twice is a duplicate and fails the run", () => {
  const run = clean(5);
  run.outputs.push(output(0, 3, 3));
  const report = checkOutputs(run);
  assert.equal(report.duplicates, 1);
  assert.deepEqual(report.repeated, [{ input: "0:3", copies: 2 }]);
  assert.equal(report.exactlyOnce, 4);
  assert.ok(!outputsPassed(report));
});

Deno.test("checkOutputs(): an input with no output nor dead letter is lost and fails the run", () => {
  const run = clean(5);
  run.outputs = run.outputs.filter((r) => r.input !== "0:2");
  const report = checkOutputs(run);
  assert.deepEqual(report.lost, ["0:2"]);
  assert.equal(report.duplicates, 0);
  assert.ok(!outputsPassed(report));
});

Deno.test("checkOutputs(): a dead-lettered input counts once; its output beside the copy is a duplicate", () => {
  const run = clean(5);
  run.outputs = run.outputs.filter((r) => r.input !== "0:4");
  run.deadLettered = [{ partition: 0, offset: "4" }];
  assert.ok(outputsPassed(checkOutputs(run)));
  // The output of a call that threw was committed next to its dead-letter copy.
  run.outputs.push(output(0, 4, 4));
  const report = checkOutputs(run);
  assert.deepEqual(report.repeated, [{ input: "0:4", copies: 2 }]);
  assert.ok(!outputsPassed(report));
});

Deno.test("checkOutputs(): a second output missing or repeated fails the run; a dead-lettered input has none", () => {
  const missing = clean(12);
  missing.seconds = missing.seconds.filter((r) => r.input !== "0:10");
  assert.deepEqual(checkOutputs(missing).secondLost, ["0:10"]);
  assert.ok(!outputsPassed(checkOutputs(missing)));

  const repeated = clean(12);
  repeated.seconds.push(output(0, 0, 0));
  assert.equal(checkOutputs(repeated).secondDuplicates, 1);
  assert.ok(!outputsPassed(checkOutputs(repeated)));

  const dead = clean(12);
  dead.outputs = dead.outputs.filter((r) => r.input !== "0:10");
  dead.deadLettered = [{ partition: 0, offset: "10" }];
  assert.equal(checkOutputs(dead).secondRepeated.length, 1, "its second output was committed");
  dead.seconds = dead.seconds.filter((r) => r.input !== "0:10");
  assert.ok(outputsPassed(checkOutputs(dead)));
});

Deno.test("checkOutputs(): a key or header not copied, or a record naming no input, fails the run", () => {
  const run = clean(3);
  run.outputs[1] = { ...run.outputs[1]!, key: null };
  assert.equal(checkOutputs(run).notCopied, 1);
  const stray = clean(3);
  stray.outputs.push(output(0, 7, 7), { ...output(0, 0, 0), input: null });
  const report = checkOutputs(stray);
  assert.equal(report.strays, 2);
  assert.ok(!outputsPassed(report));
});

Deno.test("checkOutputs(): what read_uncommitted reads beyond read_committed is counted as aborted", () => {
  const run = clean(20);
  run.uncommitted = { outputs: 27, seconds: 3, deadLettered: 1 };
  const report = checkOutputs(run);
  assert.deepEqual(report.aborted, { outputs: 7, seconds: 1, deadLettered: 1 });
  assert.ok(outputsPassed(report), "aborted records are not a failure");
  assert.match(formatOutputReport(report), /\| aborted records seen by read_uncommitted +\| 9 \(/);
});

Deno.test("parseReadBack(): the console consumer's partition, offset, headers, key and value", () => {
  const stdout = "Partition:0\tOffset:0\tNO_HEADERS\tnull\t2\n" +
    "Partition:1\tOffset:7\tsoak-id:1,soak-input:1:5\tk1\t1\nProcessed a total of 2 messages\n";
  assert.deepEqual(parseReadBack(stdout), [
    { partition: 0, offset: "0", headers: {}, key: null, value: "2" },
    {
      partition: 1,
      offset: "7",
      headers: { "soak-id": "1", "soak-input": "1:5" },
      key: "k1",
      value: "1",
    },
  ]);
});

Deno.test("deadLetterCopy(): the source partition and offset from consumerd's headers", () => {
  const [record] = parseReadBack(
    "Partition:0\tOffset:3\tconsumerd.source.partition:4,consumerd.source.offset:17\tk9\t9\n",
  );
  assert.deepEqual(deadLetterCopy(record!), [{ partition: 4, offset: "17", seq: 9 }]);
  assert.deepEqual(deadLetterCopy({ ...record!, headers: {} }), []);
});

import assert from "node:assert/strict";
import {
  attribute,
  type CallRecord,
  check,
  type Fault,
  formatReport,
  type HandlerRecord,
  orderViolations,
  parseRecords,
  passed,
  type SoakObservation,
} from "./checker.ts";

let clock = 1000;
/** A call record at the next tick of a fake clock. */
function call(p: number, o: number, w = "A1-w", ok = true, a = 1): CallRecord {
  return { k: "call", p, o: String(o), s: p * 1000 + o, w, a, ok, t: clock++ };
}

/** A clean run: partition 0 holds offsets 0..n-1, each handled once, committed n. */
function clean(n: number): SoakObservation {
  return {
    records: Array.from({ length: n }, (_, o) => call(0, o)),
    produced: 0,
    partitions: [{ partition: 0, low: "0", high: String(n), committed: String(n) }],
    deadLettered: [],
    faults: [],
    attempts: 3,
  };
}

Deno.test("check(): a clean run passes with every message handled once", () => {
  const report = check(clean(5));
  assert.equal(report.distinctHandled, 5);
  assert.equal(report.inTopic, 5);
  assert.deepEqual(report.lost, []);
  assert.equal(report.duplicates, 0);
  assert.deepEqual(report.orderViolations, []);
  assert.deepEqual(report.uncommitted, []);
  assert.ok(passed(report));
});

Deno.test("check(): an offset never handled successfully is lost; a failed call does not count", () => {
  const run = clean(5);
  run.records = run.records.filter((r) => r.o !== "3");
  run.records.push(call(0, 3, "A1-w", false));
  const report = check(run);
  assert.deepEqual(report.lost, [{ partition: 0, offset: "3" }]);
  assert.equal(report.failedCalls, 1);
  assert.ok(!passed(report));
});

Deno.test("check(): a dead-lettered message is done, not lost", () => {
  const run = clean(3);
  run.records.push(call(0, 3, "A1-w", false, 1), call(0, 3, "A1-w", false, 2));
  run.records.push(call(0, 3, "A1-w", false, 3), call(0, 4));
  run.partitions = [{ partition: 0, low: "0", high: "5", committed: "5" }];
  run.deadLettered = [{ partition: 0, offset: "3", seq: 3 }];
  const report = check(run);
  assert.deepEqual(report.lost, []);
  assert.equal(report.deadLettered, 1);
  assert.deepEqual(report.deadLetteredEarly, []);
  assert.equal(report.duplicates, 0);
  assert.ok(passed(report));
});

Deno.test("check(): an acknowledged sequence number nobody handled is lost even if offsets add up", () => {
  const run = clean(3);
  run.produced = 3;
  // Offsets 0..2 carry sequence numbers 0, 1, 1: a retried send wrote 1 twice and 2 never arrived.
  (run.records[2] as CallRecord).s = 1;
  assert.deepEqual(check(run).lostSeqs, [2]);
});

Deno.test("check(): committed below the high watermark fails the run", () => {
  const run = clean(5);
  run.partitions = [{ partition: 0, low: "0", high: "5", committed: "4" }];
  const report = check(run);
  assert.equal(report.uncommitted.length, 1);
  assert.ok(!passed(report));
});

Deno.test("orderViolations(): a skipped offset delivered later is a violation", () => {
  const records = [call(0, 0), call(0, 2), call(0, 1), call(0, 3)];
  const violations = orderViolations(records);
  assert.equal(violations.length, 1);
  assert.equal(violations[0]!.offset, "1");
  assert.equal(violations[0]!.after, "2");
});

Deno.test("orderViolations(): a re-delivery after a fault (offsets seen before) is not a violation", () => {
  const records = [
    call(0, 0, "A1-a"),
    call(0, 1, "A1-a"),
    call(0, 2, "A1-a"),
    // A1-a died; its successor re-reads from the committed offset 1.
    call(0, 1, "A1-b"),
    call(0, 2, "A1-b"),
    call(0, 3, "A1-b"),
  ];
  assert.deepEqual(orderViolations(records), []);
});

Deno.test("orderViolations(): records are merged by time across workers and kept apart per partition", () => {
  const late: HandlerRecord = { ...call(0, 1, "B1-x"), t: 5 };
  const records = [call(0, 0, "A1-a"), call(1, 9, "A1-a"), call(0, 2, "A1-a"), late];
  // offset 1 (t=5) precedes offset 0 (t≥1000) in time: 1, then 0 is the violation.
  const violations = orderViolations(records);
  assert.deepEqual(violations.map((v) => [v.partition, v.offset, v.after]), [[0, "0", "1"]]);
});

Deno.test("orderViolations(): a failed or killed first delivery counts as the delivery", () => {
  const records = [call(0, 0, "A1-a")];
  records.push({ ...call(0, 1, "A1-a"), k: "kill", mode: "throw" } as HandlerRecord as CallRecord);
  records.push(call(0, 2, "A1-b", false), call(0, 1, "A1-b"));
  // 1 was delivered (and killed its worker) before 2: handling it again after 2 is a re-delivery.
  assert.deepEqual(orderViolations(records), []);
});

Deno.test("attribute(): the fault that hit the first completion's worker comes first", () => {
  const first = { t: 10, worker: "A1-a" };
  const again = { t: 50, worker: "B1-b" };
  const faults: Fault[] = [
    { kind: "worker-kill", start: 15, end: 15, worker: "B1-z" },
    { kind: "daemon-sigkill", start: 20, end: 25, daemon: "A1" },
  ];
  assert.equal(attribute(first, again, faults), "daemon-sigkill");
  assert.equal(
    attribute(first, again, [{ kind: "worker-kill", start: 30, end: 30, worker: "A1-a" }]),
    "worker-kill",
  );
  // Both hit the first worker: the earlier one lost its progress, whatever the list's order.
  assert.equal(
    attribute(first, again, [
      { kind: "daemon-sigterm", start: 40, end: 41, daemon: "A1" },
      { kind: "worker-kill", start: 12, end: 12, worker: "A1-a" },
    ]),
    "worker-kill",
  );
});

Deno.test("attribute(): a broker outage overlapping the two completions, else a rebalance, else unexplained", () => {
  const first = { t: 10, worker: "A1-a" };
  const again = { t: 50, worker: "A1-a" };
  assert.equal(
    attribute(first, again, [{ kind: "broker-outage", start: 0, end: 12 }]),
    "broker-outage",
  );
  assert.equal(
    attribute(first, again, [
      { kind: "worker-kill", start: 40, end: 40, worker: "B1-x" },
      { kind: "daemon-sigterm", start: 30, end: 35, daemon: "B1" },
    ]),
    "rebalance after daemon-sigterm",
  );
  assert.equal(
    attribute(first, again, [{ kind: "worker-kill", start: 60, end: 60, worker: "A1-a" }]),
    "unexplained",
  );
});

Deno.test("check(): duplicates are counted per extra completion and attributed to the worker's kill", () => {
  const records: HandlerRecord[] = [call(0, 0, "A1-a"), call(0, 1, "A1-a")];
  records.push({ ...call(0, 2, "A1-a"), k: "kill", mode: "close" } as HandlerRecord);
  records.push(
    call(0, 0, "A1-b"),
    call(0, 1, "A1-b"),
    call(0, 2, "A1-b"),
  );
  const report = check({
    records,
    produced: 0,
    partitions: [{ partition: 0, low: "0", high: "3", committed: "3" }],
    deadLettered: [],
    faults: [],
    attempts: 3,
  });
  assert.equal(report.kills, 1);
  assert.equal(report.duplicates, 2);
  assert.deepEqual(report.duplicatesByCause, { "worker-kill": 2 });
  assert.ok(passed(report));
});

Deno.test("check(): a message both dead-lettered and handled is a duplicate; unknown timing is unexplained", () => {
  const run = clean(2);
  run.deadLettered = [{ partition: 0, offset: "1", seq: 1 }];
  const report = check(run);
  assert.equal(report.duplicates, 1);
  assert.deepEqual(report.duplicatesByCause, { unexplained: 1 });
});

Deno.test("check(): a dead-letter copy with fewer failed attempts than retry.attempts is early", () => {
  const run = clean(2);
  run.records.push(call(0, 2, "A1-w", false, 1), call(0, 2, "A1-w", false, 2));
  run.partitions = [{ partition: 0, low: "0", high: "3", committed: "3" }];
  run.deadLettered = [{ partition: 0, offset: "2", seq: 2 }];
  const report = check(run);
  assert.deepEqual(report.lost, []);
  assert.deepEqual(report.deadLetteredEarly, [{ partition: 0, offset: "2", seq: 2 }]);
  assert.ok(!passed(report));
});

Deno.test("parseRecords(): reads JSON lines and drops a line cut short by a kill", () => {
  const text = `${JSON.stringify(call(0, 0))}\n${JSON.stringify(call(0, 1))}\n{"k":"call","p":0,`;
  assert.deepEqual(parseRecords(text).map((r) => r.o), ["0", "1"]);
});

Deno.test("formatReport(): one row per measure, lost and order violations shown", () => {
  const table = formatReport(check(clean(3)), { "worker kills": 2 });
  assert.match(table, /\| lost +\| 0 +\| 0 +\|/);
  assert.match(table, /\| order violations +\| 0 +\| 0 +\|/);
  assert.match(table, /\| committed = high watermark +\| 1 of 1 partitions \| all +\|/);
  assert.match(table, /worker kills 2/);
});

Deno.test("check(): a call longer than the session timeout is a fault its re-deliveries are attributed to", () => {
  const records: HandlerRecord[] = [call(0, 0, "A1-a")];
  const slow = { ...call(0, 1, "A1-a"), k: "slow", ms: 40_000 } as HandlerRecord;
  records.push(slow, call(0, 0, "B1-b"), call(0, 1, "B1-b"));
  // The long call's own record carries its start time, written when it ends.
  records.push({ ...call(0, 1, "A1-a"), t: slow.t });
  const report = check({
    records,
    produced: 0,
    partitions: [{ partition: 0, low: "0", high: "2", committed: "2" }],
    deadLettered: [],
    faults: [],
    attempts: 3,
  });
  assert.equal(report.longCalls, 1);
  assert.deepEqual(report.duplicatesByCause, { "long-call": 2 });
  assert.deepEqual(report.orderViolations, []);
});

/**
 * The assertions both soak tests make on the checker's report: the faults
 * happened, and the promises every soak checks were kept.
 *
 * @module
 */
import assert from "node:assert/strict";
import type { SoakResult } from "./run.ts";

/**
 * A worker kill, a SIGTERM (the daemon exited 0), a SIGKILL and a thrown
 * call happened; `messages` were produced.
 */
export function assertFaultsHappened(result: SoakResult, messages: number): void {
  const { report } = result;
  assert.ok(report.kills > 0, "at least one worker killed itself");
  assert.equal(result.faults["daemon SIGKILL"], 1);
  assert.equal(result.faults["daemon SIGTERM"], 1);
  assert.equal(result.sigtermExitCode, 0, "the SIGTERMed daemon drained and exited 0");
  assert.ok(report.failedCalls > 0, "the handler threw");
  assert.ok(report.produced >= messages);
}

/** Nothing lost, no order violation, nothing dead-lettered early, committed = high watermark. */
export function assertPromisesKept({ report }: SoakResult): void {
  assert.deepEqual(report.lost.slice(0, 20), [], "lost messages (offsets)");
  assert.deepEqual(report.lostSeqs.slice(0, 20), [], "lost sequence numbers");
  assert.deepEqual(report.orderViolations.slice(0, 20), [], "order violations");
  assert.deepEqual(report.deadLetteredEarly, [], "dead-lettered before the attempts were spent");
  assert.deepEqual(
    report.uncommitted.map((p) => `p${p.partition} ${p.committed}/${p.high}`),
    [],
    "committed = high watermark",
  );
}

import assert from "node:assert/strict";
import { groupTiming, memberRebalanceTimeoutMs } from "../../../src/kafka/group_timing.ts";

Deno.test("groupTiming: the rebalance timeout covers a handler call, 60 s at least", () => {
  assert.equal(groupTiming({ sessionTimeoutMs: 30_000 }, 5_000).rebalanceTimeoutMs, 60_000);
  assert.equal(groupTiming({ sessionTimeoutMs: 30_000 }, 300_000).rebalanceTimeoutMs, 300_000);
});

Deno.test("groupTiming: the rebalance timeout is never shorter than the session timeout", () => {
  const timing = groupTiming({ sessionTimeoutMs: 1_800_000 }, 30_000);
  assert.equal(timing.rebalanceTimeoutMs, 1_800_000);
  assert.equal(timing.heartbeatIntervalMs, 3_000);
});

Deno.test("groupTiming: heartbeats every third of a short session", () => {
  assert.equal(groupTiming({ sessionTimeoutMs: 6_000 }, 60_000).heartbeatIntervalMs, 2_000);
});

Deno.test("memberRebalanceTimeoutMs (consumer protocol): a handler call, 60 s at least; no session timeout", () => {
  assert.equal(memberRebalanceTimeoutMs(5_000), 60_000);
  assert.equal(memberRebalanceTimeoutMs(300_000), 300_000);
});

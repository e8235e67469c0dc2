import assert from "node:assert/strict";
import { tagHeartbeatFailure } from "../../../src/kafka/session.ts";
import { Keepalive } from "../../../src/worker/keepalive.ts";

/** A heartbeat that answers each call with the next outcome (null: success). */
function scripted(outcomes: Array<"rebalance" | "gone" | "transient" | null>) {
  let calls = 0;
  const heartbeat = () => {
    const outcome = outcomes[Math.min(calls++, outcomes.length - 1)];
    if (outcome === null || outcome === undefined) return Promise.resolve();
    return Promise.reject(tagHeartbeatFailure(new Error(outcome), outcome));
  };
  return { heartbeat, calls: () => calls };
}

Deno.test("Keepalive keeps heartbeating while the group rebalances, and keeps the first error", async () => {
  const h = scripted(["rebalance", "rebalance", null]);
  const keepalive = new Keepalive(h.heartbeat, 1000);
  try {
    for (let i = 0; i < 4; i++) await keepalive.beat();
    assert.equal(h.calls(), 4, "a member that has not rejoined stays only while it heartbeats");
    assert.equal((keepalive.error as Error).message, "rebalance");
  } finally {
    keepalive.stop();
  }
});

Deno.test("Keepalive stops once the member is gone", async () => {
  const h = scripted(["gone", null]);
  const keepalive = new Keepalive(h.heartbeat, 1000);
  await keepalive.beat();
  await keepalive.beat();
  assert.equal(h.calls(), 1);
  assert.equal((keepalive.error as Error).message, "gone");
});

Deno.test("Keepalive tries again after a passing error and reports none", async () => {
  const h = scripted(["transient", null]);
  const keepalive = new Keepalive(h.heartbeat, 1000);
  try {
    await keepalive.beat();
    await keepalive.beat();
    assert.equal(h.calls(), 2);
    assert.equal(keepalive.error, null);
  } finally {
    keepalive.stop();
  }
});

Deno.test("Keepalive heartbeats on its interval until stopped", async () => {
  const h = scripted([null]);
  const keepalive = new Keepalive(h.heartbeat, 10);
  await new Promise((r) => setTimeout(r, 200));
  keepalive.stop();
  const calls = h.calls();
  assert.ok(calls >= 2, `${calls} heartbeats in 200 ms at a 10 ms interval`);
  await new Promise((r) => setTimeout(r, 30));
  assert.equal(h.calls(), calls, "none after stop()");
});

Deno.test("Keepalive rejects a non-positive interval", () => {
  assert.throws(() => new Keepalive(() => Promise.resolve(), 0), RangeError);
});

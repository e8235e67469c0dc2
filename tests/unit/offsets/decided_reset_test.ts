import assert from "node:assert/strict";
import { type DecidedReset, decidedResetStands } from "../../../src/offsets/decided_reset.ts";

const latest: DecidedReset = {
  partition: 0,
  offset: "10",
  reason: "reset-on-start",
  committed: "4",
};

Deno.test("decidedResetStands() when the reset was applied (committed is its offset), even with its answer lost", () => {
  assert.equal(decidedResetStands(latest, "10"), true);
});

Deno.test("decidedResetStands() when the reset was not applied (committed is what it was decided from)", () => {
  assert.equal(decidedResetStands(latest, "4"), true);
  const fromNone = { ...latest, committed: null, reason: "no-committed-offset" } as const;
  assert.equal(decidedResetStands(fromNone, null), true);
  assert.equal(decidedResetStands(fromNone, "-1"), true, "Kafka's -1 is no committed offset");
  assert.equal(decidedResetStands({ ...latest, committed: "-1" }, null), true);
});

Deno.test("decidedResetStands() not when someone moved the committed offset since", () => {
  assert.equal(decidedResetStands(latest, "12"), false, "another member read on from the reset");
  assert.equal(decidedResetStands(latest, "0"), false, "reset-offsets moved it");
  assert.equal(decidedResetStands(latest, null), false);
});

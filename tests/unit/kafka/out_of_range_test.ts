import assert from "node:assert/strict";
import { roundFailure } from "../../../src/kafka/out_of_range.ts";

const outOfRange = (e: unknown) => e instanceof Error && e.message === "out of range";

Deno.test("roundFailure() reports a fetch failure even when another fetch of the round was out of range", () => {
  const reset = new Error("out of range");
  const closed = new Error("connection closed");
  assert.equal(roundFailure([reset, closed], outOfRange), closed);
  assert.equal(roundFailure([closed, reset], outOfRange), closed);
});

Deno.test("roundFailure() reports nothing when every failure is partitions out of range, or none failed", () => {
  assert.equal(roundFailure([new Error("out of range")], outOfRange), null);
  assert.equal(
    roundFailure([new Error("out of range"), new Error("out of range")], outOfRange),
    null,
  );
  assert.equal(roundFailure([], outOfRange), null);
});

Deno.test("roundFailure() reports the first of several failures", () => {
  const first = new Error("timeout");
  assert.equal(roundFailure([first, new Error("connection closed")], outOfRange), first);
});

import assert from "node:assert/strict";
import { lagOf } from "../../../src/cli/offsets.ts";

Deno.test("lagOf() is high watermark − committed, never below 0, null without a committed offset or with a placeholder", () => {
  const at = (committed: string | null, high: string) => ({
    partition: 0,
    committed,
    low: "0",
    high,
  });
  assert.equal(lagOf(at("4", "10")), "6");
  assert.equal(lagOf(at("10", "10")), "0");
  assert.equal(lagOf(at("50", "10")), "0", "committed past the end: nothing to read, not -40");
  assert.equal(lagOf(at("9223372036854775806", "9223372036854775807")), "1", "64-bit exact");
  assert.equal(lagOf(at(null, "10")), null);
  assert.equal(
    lagOf(at("-2", "10")),
    null,
    "kafkajs's placeholder after an out-of-range: unknown, not 12",
  );
});

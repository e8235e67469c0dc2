import assert from "node:assert/strict";
import { committedOffset, isOffset } from "../../../src/kafka/offset_checks.ts";

Deno.test("committedOffset() reads only -1 as no committed offset; other negatives are kept for startPosition() to call out of range", () => {
  assert.equal(committedOffset("-1"), null);
  assert.equal(committedOffset(-1n), null);
  assert.equal(committedOffset(undefined), null);
  assert.equal(committedOffset("-2"), "-2");
  assert.equal(committedOffset(-2n), "-2");
  assert.equal(committedOffset(-1000n), "-1000");
  assert.equal(committedOffset("0"), "0");
  assert.equal(committedOffset(9007199254740993n), "9007199254740993");
});

Deno.test("isOffset() accepts canonical non-negative decimal strings only", () => {
  for (const ok of ["0", "7", "9223372036854775807"]) assert.equal(isOffset(ok), true, ok);
  for (const bad of ["-1", "-2", "07", "", "1.5", 5, null]) assert.equal(isOffset(bad), false);
});

import assert from "node:assert/strict";
import { spread } from "./stats.ts";

Deno.test("spread() gives the median, min and max of odd and even counts", () => {
  assert.deepEqual(spread([3, 1, 2]), { median: 2, min: 1, max: 3, runs: 3 });
  assert.deepEqual(spread([4, 1, 2, 3]), { median: 2.5, min: 1, max: 4, runs: 4 });
  assert.deepEqual(spread([7]), { median: 7, min: 7, max: 7, runs: 1 });
});

Deno.test("spread() throws RangeError without runs", () => {
  assert.throws(() => spread([]), RangeError);
});

import assert from "node:assert/strict";
import {
  STALE_REFRESH_MS,
  UNKNOWN_REFRESH_MS,
  Watermarks,
} from "../../../src/worker/watermarks.ts";

Deno.test("Watermarks.due() asks for partitions never learnt at once and every 2 s, stale ones every 10 s", () => {
  const marks = new Watermarks();
  marks.set(0, "5", 1000);
  assert.deepEqual(marks.due([0, 1], 1000), [1], "1 was never learnt; 0 is fresh");
  assert.deepEqual(marks.due([0, 1], 1000 + UNKNOWN_REFRESH_MS - 1), [], "1 was just asked for");
  assert.deepEqual(marks.due([0, 1], 1000 + UNKNOWN_REFRESH_MS), [1]);
  assert.deepEqual(marks.due([0], 1000 + STALE_REFRESH_MS), [0], "0 is stale");
  assert.deepEqual(marks.due([0], 1000 + STALE_REFRESH_MS + 1), [], "and was just asked for");
  marks.set(0, "9", 1000 + STALE_REFRESH_MS + 5);
  assert.deepEqual(marks.due([0], 1000 + 2 * STALE_REFRESH_MS), [], "a fetch refreshed it");
});

Deno.test("Watermarks.set() keeps what was learnt last; forget() drops a partition", () => {
  const marks = new Watermarks();
  marks.set(3, "20", 2000); // a fetch
  marks.set(3, "15", 1500); // the broker's answer to a request sent before that fetch
  assert.equal(marks.get(3), "20");
  marks.set(3, "21", 2500);
  assert.equal(marks.get(3), "21");
  marks.forget([3]);
  assert.equal(marks.get(3), null);
  assert.deepEqual(marks.due([3], 2600), [3]);
});

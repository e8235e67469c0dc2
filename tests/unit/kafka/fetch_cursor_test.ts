import assert from "node:assert/strict";
import {
  advanceCursor,
  markCommitted,
  newCursors,
  readPositions,
  readyCursors,
  uncommittedPositions,
} from "../../../src/kafka/fetch_cursor.ts";

Deno.test("advanceCursor moves to just after an offset, never backwards", () => {
  const cursor = newCursors([0]).get(0)!;
  advanceCursor(cursor, "9");
  assert.equal(cursor.position, "10");
  advanceCursor(cursor, "3");
  assert.equal(cursor.position, "10");
  advanceCursor(cursor, "9007199254740993");
  assert.equal(cursor.position, "9007199254740994", "offsets beyond 2^53 stay exact");
});

Deno.test("cursors: ready ones read and are not paused; uncommitted positions moved since the last commit", () => {
  const cursors = newCursors([0, 1, 2, 3]);
  cursors.get(0)!.position = "5";
  cursors.get(1)!.position = "7";
  cursors.get(1)!.paused = true;
  cursors.get(2)!.position = "4";
  markCommitted(cursors, [{ partition: 2, offset: "4" }, { partition: 9, offset: "1" }]);
  assert.deepEqual(readyCursors(cursors.values()).map((c) => c.partition), [0, 2]);
  assert.deepEqual(readPositions(cursors.values()), [
    { partition: 0, offset: "5" },
    { partition: 1, offset: "7" },
    { partition: 2, offset: "4" },
  ]);
  assert.deepEqual(uncommittedPositions(cursors.values()), [
    { partition: 0, offset: "5" },
    { partition: 1, offset: "7" },
  ]);
  assert.equal(cursors.has(9), false, "a commit for a partition no longer held adds no cursor");
});

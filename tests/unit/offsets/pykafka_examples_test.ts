/**
 * The worked examples of PyKafka's usage guide ("Setting the initial
 * offset"), played through startPosition() and CommitTracker together: the
 * committed offset one consumer leaves is where the next one starts.
 */
import assert from "node:assert/strict";
import { CommitTracker } from "../../../src/offsets/commit_tracker.ts";
import { startPosition } from "../../../src/offsets/start_position.ts";

/** Processes `offsets` of partition 0 and returns what the tracker commits. */
function consume(tracker: CommitTracker, offsets: number[]): string | undefined {
  for (const offset of offsets) tracker.begin(0, String(offset));
  for (const offset of offsets) tracker.finish(0, String(offset));
  const pending = tracker.pending();
  tracker.markCommitted(pending);
  return pending.find((entry) => entry.partition === 0)?.offset;
}

Deno.test("startPosition() and CommitTracker replay PyKafka's three consumers", async (t) => {
  // "mygroup" has no committed offsets; the topic holds offsets 0..9.
  let committed: string | null = null;
  let highWatermark = "10";

  await t.step("consumer 1, LATEST: starts at 10 and commits that position at once", () => {
    const start = startPosition({
      autoOffsetReset: "latest",
      resetOffsetOnStart: false,
      heldAtStart: true,
      committed,
      logStartOffset: "0",
      highWatermark,
    });
    assert.deepEqual(start, { offset: "10", reason: "no-committed-offset", commit: true });
    const tracker = new CommitTracker();
    tracker.seed(0, start.offset, { commit: start.commit });
    assert.deepEqual(tracker.pending(), [{ partition: 0, offset: "10" }]);
    tracker.markCommitted(tracker.pending());
    // Messages 10..12 are produced and consumed; commit_offsets() commits 13.
    highWatermark = "13";
    committed = consume(tracker, [10, 11, 12]) ?? null;
    assert.equal(committed, "13");
  });

  await t.step("consumer 2, defaults: starts from the committed offset, 13", () => {
    assert.deepEqual(
      startPosition({
        autoOffsetReset: "earliest",
        resetOffsetOnStart: false,
        heldAtStart: true,
        committed,
        logStartOffset: "0",
        highWatermark,
      }),
      { offset: "13", reason: "committed", commit: false },
    );
  });

  await t.step("consumer 3, EARLIEST with resetOffsetOnStart: starts at 0", () => {
    assert.deepEqual(
      startPosition({
        autoOffsetReset: "earliest",
        resetOffsetOnStart: true,
        heldAtStart: true,
        committed,
        logStartOffset: "0",
        highWatermark,
      }),
      { offset: "0", reason: "reset-on-start", commit: true },
    );
  });
});

Deno.test("startPosition() resumes at 5 after a consumer finished offset 4", () => {
  // PyKafka: "if the last committed offset was 4, consumption starts at 5".
  const input = {
    autoOffsetReset: "earliest",
    resetOffsetOnStart: false,
    heldAtStart: true,
    logStartOffset: "0",
    highWatermark: "10",
  } as const;
  const first = startPosition({ ...input, committed: null });
  assert.deepEqual(first, { offset: "0", reason: "no-committed-offset", commit: true });
  const tracker = new CommitTracker();
  tracker.seed(0, first.offset, { commit: first.commit });
  const committed = consume(tracker, [0, 1, 2, 3, 4]);
  assert.equal(committed, "5");
  assert.equal(tracker.processed(0), "4");
  assert.deepEqual(startPosition({ ...input, committed: committed ?? null }), {
    offset: "5",
    reason: "committed",
    commit: false,
  });
});

import assert from "node:assert/strict";
import { CommitTracker } from "../../../src/offsets/commit_tracker.ts";
import { decodeCommitMetadata } from "../../../src/offsets/commit_metadata.ts";
import { MetadataCommits } from "../../../src/worker/metadata_commits.ts";

Deno.test("MetadataCommits.due() commits the oldest unfinished offset with what finished beyond it", () => {
  const tracker = new CommitTracker();
  const commits = new MetadataCommits();
  tracker.seed(0, "10");
  commits.started(0, "10", null);
  for (let o = 10; o < 20; o++) tracker.begin(0, String(o));
  assert.deepEqual(commits.due(tracker, [0]).offsets, [], "nothing finished: nothing due");
  for (const o of ["11", "12", "15"]) tracker.finish(0, o);
  const { offsets, dropped } = commits.due(tracker, [0]);
  assert.equal(dropped, 0);
  assert.equal(offsets.length, 1);
  assert.equal(offsets[0]!.offset, "10");
  const decoded = decodeCommitMetadata(offsets[0]!.metadata, "10");
  assert.equal(decoded.kind, "finished");
  assert.deepEqual(decoded.kind === "finished" ? decoded.finished.ranges : [], [
    [11n, 13n],
    [15n, 16n],
  ]);
  commits.committed(offsets);
  assert.deepEqual(commits.due(tracker, [0]).offsets, [], "the same again is not due");
  tracker.finish(0, "10"); // the commit point moves to 13
  assert.deepEqual(commits.due(tracker, [0]).offsets.map((o) => o.offset), ["13"]);
});

Deno.test("MetadataCommits.due() reports finished offsets the metadata could not list", () => {
  const tracker = new CommitTracker();
  const commits = new MetadataCommits({ limit: 40 });
  tracker.seed(0, "0");
  for (let o = 0; o < 2000; o += 1) tracker.begin(0, String(o));
  for (let o = 1; o < 2000; o += 2) tracker.finish(0, String(o));
  const { offsets, dropped } = commits.due(tracker, [0]);
  assert.ok(offsets[0]!.metadata!.length <= 40);
  assert.ok(dropped > 900, `dropped ${dropped}`);
});

Deno.test("MetadataCommits.due() never moves a partition's commit back, and skips unknown partitions", () => {
  const tracker = new CommitTracker();
  const commits = new MetadataCommits();
  tracker.seed(0, "10");
  tracker.begin(0, "10");
  tracker.markCommitted([{ partition: 0, offset: "12" }]); // a newer commit was made elsewhere
  assert.deepEqual(commits.due(tracker, [0, 1]).offsets, []);
});

import assert from "node:assert/strict";
import { MetadataTooLargeError } from "../../../src/kafka/commit_rejected.ts";
import type { PartitionOffset } from "../../../src/kafka/session.ts";
import { createLogger } from "../../../src/log.ts";
import { CommitTracker } from "../../../src/offsets/commit_tracker.ts";
import { decodeCommitMetadata } from "../../../src/offsets/commit_metadata.ts";
import type { Context } from "../../../src/worker/context.ts";
import { KeyedWork } from "../../../src/worker/keyed_work.ts";
import { StatsCounter } from "../../../src/worker/stats.ts";

/** A worker's keyed part whose tracker holds 0..9999 begun, every odd offset finished. */
function keyedWork(): { keyed: KeyedWork; stats: StatsCounter } {
  const tracker = new CommitTracker();
  tracker.seed(0, "0");
  for (let o = 0; o < 10_000; o++) tracker.begin(0, String(o));
  for (let o = 1; o < 10_000; o += 2) tracker.finish(0, String(o));
  const stats = new StatsCounter();
  const keyed = new KeyedWork({
    consumer: {
      ordering: "key",
      concurrency: 4,
      maxBuffered: 100,
      retry: { attempts: 1, backoffMs: 1, maxBackoffMs: 1 },
      commit: { mode: "auto", intervalMs: 1000 },
    },
    handle: () => {},
    ctx: {} as Context,
    signal: new AbortController().signal,
    log: createLogger({ level: "error" }),
    tracker,
    keepaliveMs: 100,
    turnEveryMs: 100,
    deadLetter: () => Promise.resolve(false),
    onKeyPaused: () => {},
    stats,
  });
  return { keyed, stats };
}

Deno.test("KeyedWork.commitDue() shortens metadata the broker refuses as too long until it fits", async () => {
  const { keyed, stats } = keyedWork();
  const tried: number[] = [];
  const committed = await keyed.commitDue([0], (offsets: PartitionOffset[]) => {
    const length = offsets[0]!.metadata?.length ?? 0;
    tried.push(length);
    // A broker whose offset.metadata.max.bytes is 1000.
    return length > 1000
      ? Promise.reject(new MetadataTooLargeError("too long"))
      : Promise.resolve();
  });
  assert.equal(committed[0]!.offset, "0", "the offset is committed all the same");
  assert.ok(tried.at(-1)! <= 1000 && tried.at(-1)! > 0, `tried ${tried}`);
  assert.ok(tried.length >= 2 && tried[0]! > 1000, `tried ${tried}`);
  const decoded = decodeCommitMetadata(committed[0]!.metadata, "0");
  assert.equal(decoded.kind, "finished", "what fits is still listed");
  assert.ok(stats.snapshot().metadataDropped > 0, "what did not fit is counted");
  keyed.close();
});

Deno.test("KeyedWork.commitDue() commits without metadata when the broker takes none", async () => {
  const { keyed } = keyedWork();
  const committed = await keyed.commitDue(
    [0],
    (offsets) =>
      offsets[0]!.metadata ? Promise.reject(new MetadataTooLargeError("none")) : Promise.resolve(),
  );
  assert.deepEqual(committed, [{ partition: 0, offset: "0", metadata: null }]);
  keyed.close();
});

Deno.test("KeyedWork.commitDue() passes on other commit failures, and tries the same again later", async () => {
  const { keyed } = keyedWork();
  await assert.rejects(
    keyed.commitDue([0], () => Promise.reject(new Error("coordinator moved"))),
    /coordinator moved/,
  );
  const again = await keyed.commitDue([0], () => Promise.resolve());
  assert.equal(again.length, 1, "still due");
  assert.deepEqual(await keyed.commitDue([0], () => Promise.resolve()), [], "then not again");
  keyed.close();
});

import assert from "node:assert/strict";
import { PartitionCounts } from "../../../../src/kafka/platformatic/partition_counts.ts";

Deno.test("PartitionCounts: a count read is known for maxAgeMs, then unknown until read again (partitions added, a topic recreated)", () => {
  let now = 1_000;
  const counts = new PartitionCounts({ maxAgeMs: 5_000, now: () => now });
  assert.equal(counts.get("out"), undefined, "never read");
  counts.set("out", 8);
  assert.equal(counts.get("out"), 8);
  now += 5_000;
  assert.equal(counts.get("out"), 8, "still fresh at maxAgeMs");
  now += 1;
  assert.equal(counts.get("out"), undefined, "too old: the next record reads it again");
  counts.set("out", 4);
  assert.equal(counts.get("out"), 4);
  counts.delete("out");
  assert.equal(counts.get("out"), undefined, "forgotten after a failed read or request");
});

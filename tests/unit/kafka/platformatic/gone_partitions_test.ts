import assert from "node:assert/strict";
import {
  fillGonePartitions,
  type TopicsMetadata,
} from "../../../../src/kafka/platformatic/gone_partitions.ts";

const partition = (leader: number) => ({ leader });

Deno.test("fillGonePartitions() gives the partitions routed to that a topic no longer has no leader, and leaves the rest", () => {
  const metadata: TopicsMetadata = {
    topics: new Map<string, { partitions: unknown[] } | undefined>([
      ["shrunk", { partitions: [partition(1)] }],
      ["same", { partitions: [partition(1), partition(2)] }],
      ["never-routed", { partitions: [partition(1)] }],
      ["missing", undefined],
    ]),
  };
  fillGonePartitions(metadata, new Map([["shrunk", 2], ["same", 1], ["missing", 3]]));
  const leaders = (topic: string) =>
    metadata.topics.get(topic)?.partitions.map((p) => (p as { leader: number }).leader);
  assert.deepEqual(leaders("shrunk"), [1, -1, -1]);
  assert.deepEqual(leaders("same"), [1, 2]);
  assert.deepEqual(leaders("never-routed"), [1]);
  assert.equal(metadata.topics.get("missing"), undefined);
});

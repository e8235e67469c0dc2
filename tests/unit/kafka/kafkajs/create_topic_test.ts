import assert from "node:assert/strict";
import { leadersReady } from "../../../../src/kafka/kafkajs/create_topic.ts";

Deno.test("leadersReady: every expected partition is listed and has a leader", () => {
  const led = [{ partitionId: 0, leader: 1 }, { partitionId: 1, leader: 1 }];
  assert.equal(leadersReady(led, 2), true);
  assert.equal(leadersReady(led, 3), false, "a partition the metadata does not list yet");
  assert.equal(leadersReady([], 1), false, "a topic the broker does not know yet");
  assert.equal(leadersReady([{ partitionId: 0, leader: -1 }], 1), false, "no leader elected");
});

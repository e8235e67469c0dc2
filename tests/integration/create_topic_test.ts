/**
 * Topic creation as every test and the dev script use it: it resolves only
 * when the broker serves the new topic, so the next request meets neither
 * UNKNOWN_TOPIC_OR_PARTITION nor NOT_LEADER_OR_FOLLOWER. With kafkajs's own
 * `waitForLeaders`, the ListOffsets right after creation failed with the
 * latter here, and CI's chaos soak once failed at creation with the former.
 */
import assert from "node:assert/strict";
import { KafkaAdmin } from "../../src/kafka/kafkajs/admin.ts";
import { TEST_KAFKA, uniqueName } from "../harness/kafka.ts";

Deno.test("ensureTopic resolves once every partition is served by its leader, and is false for an existing topic", async () => {
  const admin = await KafkaAdmin.connect(TEST_KAFKA, "test-admin");
  const topics = Array.from({ length: 4 }, () => uniqueName("create"));
  try {
    for (const topic of topics) {
      assert.equal(await admin.ensureTopic(topic, { partitions: 4 }), true);
      const marks = await admin.watermarks(topic);
      assert.deepEqual(marks.map((m) => m.partition).sort(), [0, 1, 2, 3]);
    }
    assert.equal(await admin.ensureTopic(topics[0]!, { partitions: 4 }), false);
  } finally {
    await admin.deleteTopics(topics).catch(() => {});
    await admin.close();
  }
});

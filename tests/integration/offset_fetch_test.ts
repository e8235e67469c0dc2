/**
 * Reading the group's committed offsets while a transaction that commits
 * some of them is still open (requireStable, KIP-447): the coordinator
 * answers UNSTABLE_OFFSET_COMMIT until the transaction ends, and the read
 * waits for it, quietly.
 */
import assert from "node:assert/strict";
import { PlatformaticClient } from "../../src/kafka/platformatic/client.ts";
import { TransactionalCommitter } from "../../src/kafka/platformatic/transactions.ts";
import { createLogger } from "../../src/log.ts";
import { kafkaWith, uniqueName, waitFor, withTopic } from "../harness/kafka.ts";
import { API } from "../harness/kafka_frames.ts";
import { startKafkaProxy } from "../harness/kafka_proxy.ts";

Deno.test("PlatformaticClient.committed() waits quietly while a transaction holds the offsets (UNSTABLE_OFFSET_COMMIT)", async () => {
  const proxy = await startKafkaProxy();
  await withTopic({ partitions: 1 }, async ({ topic }) => {
    const group = uniqueName("g");
    const kafka = kafkaWith("platformatic");
    const lines: Array<{ level: string; msg: string }> = [];
    const logger = createLogger({ level: "debug", write: (line) => lines.push(JSON.parse(line)) });
    const client = await PlatformaticClient.create({
      kafka,
      clientIdSuffix: "unstable",
      group,
      topic,
      fetch: { maxWaitMs: 100, maxBytes: 1024 * 1024, maxBytesPerPartition: 1024 * 1024 },
      instanceId: null,
      membership: null,
    });
    // Through the proxy, whose EndTxn waits: the offsets stay pending that long.
    const committer = await TransactionalCommitter.create({
      kafka: { ...kafka, brokers: proxy.brokers },
      clientIdSuffix: "unstable",
      transactionalId: uniqueName("tx"),
      group,
      topic,
      take: () => [],
      logger,
    });
    try {
      proxy.delay(API.endTxn, 1500);
      const committed = committer.commit([{ partition: 0, offset: "7" }], {
        group,
        generation: -1,
        memberId: "",
        instanceId: null,
        coordinator: await client.coordinator(),
      });
      await waitFor(() => proxy.requests(API.txnOffsetCommit).some((r) => r.answeredAt !== null), {
        what: "the offsets sent in the transaction",
      });
      const read = await client.committed([0], logger);
      await committed;
      assert.equal(read.get(0)?.offset, "7", "read once the transaction committed");
      const unstable = lines.filter((l) => /held by an open transaction/.test(l.msg));
      assert(unstable.some((l) => l.level === "debug"), JSON.stringify(lines));
      assert.deepEqual(unstable.filter((l) => l.level !== "debug"), []);
    } finally {
      await committer.close();
      await client.close();
    }
  }).finally(() => proxy.close());
});

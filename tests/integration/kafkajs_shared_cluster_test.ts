/**
 * The admin client a balanced-mode worker describes its partitions with
 * uses the consumer's cluster: no connection of its own, no connect().
 */
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { type ISocketFactory, Kafka, logLevel } from "kafkajs";
import { denoSocketFactory, type SocketRequest } from "../../src/kafka/kafkajs/deno_socket.ts";
import { consumerWithAdmin } from "../../src/kafka/kafkajs/shared_cluster.ts";
import { BROKERS, produceNumbered, uniqueName, withTopic } from "../harness/kafka.ts";

Deno.test("consumerWithAdmin: the admin reads offsets over the consumer's connections, opening none", async () => {
  await withTopic({ partitions: 2 }, async ({ topic, admin: testAdmin }) => {
    await produceNumbered(testAdmin, topic, { count: 10, partitions: 2 });
    let connections = 0;
    const sockets = denoSocketFactory((b) => Buffer.from(b));
    const socketFactory = ((request: SocketRequest) => {
      connections++;
      return sockets(request);
    }) as unknown as ISocketFactory;
    const kafka = new Kafka({
      brokers: BROKERS,
      clientId: "shared",
      socketFactory,
      logLevel: logLevel.NOTHING,
    });
    const group = uniqueName("g");
    const { consumer, admin } = consumerWithAdmin(kafka, { groupId: group });
    await consumer.connect();
    try {
      await consumer.subscribe({ topic, fromBeginning: true });
      let seen = 0;
      await consumer.run({ eachMessage: () => Promise.resolve(void seen++) });
      while (seen < 10) await new Promise((r) => setTimeout(r, 50));
      await consumer.commitOffsets([{ topic, partition: 0, offset: "3" }]);
      const before = connections;
      assert.ok(before > 0);
      const [committed, watermarks] = await Promise.all([
        admin.fetchOffsets({ groupId: group, topics: [topic] }),
        admin.fetchTopicOffsets(topic),
      ]);
      assert.equal(connections, before, "no connection of the admin's own");
      assert.equal(committed[0]!.partitions.find((p) => p.partition === 0)!.offset, "3");
      assert.deepEqual(watermarks.map((w) => w.high).sort(), ["5", "5"]);
    } finally {
      await consumer.disconnect();
    }
  });
});

Deno.test("consumerWithAdmin names what is missing when kafkajs has no createCluster function", () => {
  const notKafka = { consumer: () => ({}), admin: () => ({}) } as unknown as Kafka;
  assert.throws(() => consumerWithAdmin(notKafka, { groupId: "g" }), /private:Kafka:createCluster/);
});

Deno.test("consumerWithAdmin: onJoining learns the member id (MEMBER_ID_REQUIRED, KIP-394) before the join ends", async () => {
  await withTopic({ partitions: 2 }, async ({ topic }) => {
    const group = uniqueName("g");
    const kafka = new Kafka({ brokers: BROKERS, clientId: "joining", logLevel: logLevel.NOTHING });
    const events: string[] = [];
    const { consumer } = consumerWithAdmin(kafka, { groupId: group }, {
      onJoining: (memberId) => events.push(`joining ${memberId}`),
    });
    consumer.on(consumer.events.GROUP_JOIN, (e) => events.push(`joined ${e.payload.memberId}`));
    try {
      await consumer.connect();
      await consumer.subscribe({ topic });
      await consumer.run({ eachMessage: () => Promise.resolve() });
      const joined = events.find((e) => e.startsWith("joined "));
      assert.ok(joined, events.join("; "));
      const memberId = joined.slice("joined ".length);
      assert.equal(events[0], `joining ${memberId}`, "the id reached onJoining first");
    } finally {
      await consumer.disconnect();
    }
  });
});

/**
 * What @platformatic/kafka's transactions do on the real broker, the ground
 * `delivery: exactly-once` stands on: a
 * transaction carries outputs and a consumer group's input offsets with the
 * member's generation (KIP-447); aborted, it leaves neither (read_committed
 * sees nothing of it); an offset sent under a stale generation is refused.
 */
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { Consumer, type Message, Producer } from "@platformatic/kafka";
import { BROKERS, uniqueName, waitFor, withTopic } from "../harness/kafka.ts";
import { readValues } from "../harness/read_topic.ts";

Deno.test("@platformatic/kafka transactions: outputs and input offsets commit together with the generation, abort leaves neither, a stale generation is refused", async () => {
  await withTopic({ partitions: 1 }, async ({ topic, admin }) => {
    const output = `${topic}.out`;
    await admin.ensureTopic(output, { partitions: 1 });
    const group = uniqueName("g");
    const consumer = new Consumer({
      groupId: group,
      clientId: "tx-probe",
      bootstrapBrokers: BROKERS,
    });
    const producer = new Producer({
      clientId: "tx-probe",
      bootstrapBrokers: BROKERS,
      idempotent: true,
      transactionalId: uniqueName("tx"),
    });
    try {
      await admin.produce(topic, ["a", "b", "c"].map((value) => ({ value, partition: 0 })));
      const stream = await consumer.consume({
        topics: [topic],
        mode: "earliest",
        autocommit: false,
      });
      const read: Message[] = [];
      stream.on("data", (message: Message) => read.push(message));
      await waitFor(() => read.length === 3, { what: "3 inputs read" });
      stream.pause();
      const [a, b, c] = read as [Message, Message, Message];
      const member = a.metadata.consumer as { generationId: number; memberId: string };
      assert(member.generationId > 0 && member.memberId !== "", "read as a member of the group");

      // Committed: the output and the input offset together.
      const first = await producer.beginTransaction();
      await first.send({ messages: [{ topic: output, value: Buffer.from("out:a") }] });
      await first.addConsumer(consumer);
      await first.addOffset(a);
      await first.commit();
      // EndTxn is answered once the commit is decided; the offset shows once the coordinator has
      // written the transaction's markers, just after.
      await waitFor(
        async () => (await admin.committed(group, topic))[0]?.offset === "1",
        { timeoutMs: 10_000, what: "the transaction's offset (1) committed" },
      );
      const [committed] = await consumer.listCommittedOffsets({
        topics: [{ topic, partitions: [0] }],
      })
        .then((offsets) => offsets.get(topic) ?? []);
      assert.equal(committed, 1n);

      // Aborted: neither.
      const second = await producer.beginTransaction();
      await second.send({ messages: [{ topic: output, value: Buffer.from("out:b") }] });
      await second.addConsumer(consumer);
      await second.addOffset(b);
      await second.abort();
      assert.deepEqual(await admin.committed(group, topic), [{ partition: 0, offset: "1" }]);
      assert.deepEqual(await readValues(output, "read_committed"), ["out:a"]);
      assert.equal(
        (await admin.watermarks(output))[0]?.high,
        "4",
        "out:a, its marker, out:b, its marker",
      );

      // A zombie's offset, under the generation before this one: refused.
      const third = await producer.beginTransaction();
      await third.addConsumer(consumer);
      const stale = {
        ...c,
        metadata: {
          consumer: { ...c.metadata.consumer as object, generationId: member.generationId - 1 },
        },
      } as Message;
      await assert.rejects(third.addOffset(stale), (error: Error) => {
        // ILLEGAL_GENERATION, as the library words it.
        const causes = (error as Error & { errors?: Error[] }).errors ?? [];
        assert.match(causes.map((e) => e.message).join(), /group generation id is not valid/);
        return true;
      });
      await third.abort();
      assert.deepEqual(await admin.committed(group, topic), [{ partition: 0, offset: "1" }]);
    } finally {
      await producer.close().catch(() => {});
      await consumer.close(true).catch(() => {});
      await admin.deleteTopics([output]);
    }
  });
});

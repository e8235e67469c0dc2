/**
 * A worker's producer on the real broker, both engines. Closed while
 * records are still on their way (a handler call that did not await its
 * produce), it sends what was handed to it before close(), refuses what
 * comes after, and leaves no connection open (the test's resource
 * sanitizer checks). An output topic made again with fewer partitions: a
 * record for a partition it no longer has fails, and none lands elsewhere.
 */
import assert from "node:assert/strict";
import { createRecordProducer } from "../../src/kafka/record_producer.ts";
import { createLogger } from "../../src/log.ts";
import { ENGINES, kafkaWith, waitFor, withTopic } from "../harness/kafka.ts";
import { readTopic } from "../harness/read_topic.ts";

for (const engine of ENGINES) {
  Deno.test(`${engine} producer: records sent before close() land, one after it is refused, and no connection stays open`, async () => {
    await withTopic({ partitions: 1 }, async ({ topic, admin }) => {
      const producer = await createRecordProducer(engine, kafkaWith(engine), {
        clientIdSuffix: "close-test",
        logger: createLogger({ level: "error" }),
      });
      // The first request is under way while the second record waits for it; close() comes
      // before either is acknowledged.
      const first = producer.send({ topic, value: "a" });
      await new Promise((r) => setTimeout(r, 0));
      const second = producer.send({ topic, value: "b" });
      const closing = producer.close();
      const late = producer.send({ topic, value: "c" });
      const outcomes = await Promise.all(
        [first, second, late].map((p) => p.then(() => "sent", (e: Error) => e.message)),
      );
      await closing;
      assert.deepEqual(outcomes.slice(0, 2), ["sent", "sent"]);
      assert.match(outcomes[2]!, /closed/);
      const values = (await readTopic(admin, topic)).map((r) => r.value);
      assert.deepEqual(values, ["a", "b"]);
      // A producer opened after close() would connect now: the sanitizer would find its socket.
      await new Promise((r) => setTimeout(r, 1000));
    });
  });
}

for (const engine of ENGINES) {
  Deno.test(`${engine} producer: an output topic deleted and made again with fewer partitions: a record for a partition gone fails, none lands elsewhere`, async () => {
    await withTopic({ partitions: 3 }, async ({ topic, admin }) => {
      const producer = await createRecordProducer(engine, kafkaWith(engine), {
        clientIdSuffix: "recreated-test",
        logger: createLogger({ level: "error" }),
      });
      try {
        await producer.send({ topic, value: "before", partition: 2 });
        await admin.deleteTopics([topic]);
        // The broker takes a moment to forget a deleted topic before it is made again.
        await waitFor(
          () => admin.ensureTopic(topic, { partitions: 1 }).then(() => true, () => false),
          { what: "the topic made again with 1 partition" },
        );
        // Each try fails, whether the producer still goes by 3 partitions or has read 1 again.
        for (let attempt = 0; attempt < 3; attempt++) {
          const outcome = await producer.send({ topic, value: "gone", partition: 2 }).then(
            () => "sent",
            (e: Error) => e.message,
          );
          assert.notEqual(outcome, "sent", `attempt ${attempt}`);
        }
        await producer.send({ topic, key: "k", value: "after" });
        const records = (await readTopic(admin, topic)).map((r) => [r.partition, r.value]);
        assert.deepEqual(records, [[0, "after"]]);
      } finally {
        await producer.close();
      }
    });
  });
}

/**
 * A connection that failed once is made again: a dead-letter producer whose
 * first connect failed still dead-letters once the brokers are reachable.
 */
import assert from "node:assert/strict";
import { createDeadLetterSink } from "../../src/kafka/kafkajs/dead_letter.ts";
import { createKafkajsProducer } from "../../src/kafka/kafkajs/record_producer.ts";
import { createLogger } from "../../src/log.ts";
import { createMessage } from "../../src/message.ts";
import { BROKERS, TEST_KAFKA, withTopic } from "../harness/kafka.ts";
import { freePort, startProxy } from "../harness/proxy.ts";

Deno.test("createDeadLetterSink() on the worker's producer connects again after a failed connect", async () => {
  await withTopic({ partitions: 1 }, async ({ topic, admin }) => {
    const port = freePort();
    const producer = createKafkajsProducer({ ...TEST_KAFKA, brokers: [`127.0.0.1:${port}`] }, {
      clientIdSuffix: "reconnect-test",
      logger: createLogger({ level: "error" }),
    });
    const sink = createDeadLetterSink(producer, "c");
    const message = createMessage({
      topic: "source",
      partition: 0,
      offset: "7",
      key: null,
      value: new TextEncoder().encode("failed"),
      headers: {},
      timestamp: String(Date.now()),
    });
    await assert.rejects(sink.send(topic, message, new Error("boom")), "nothing listens yet");
    const proxy = startProxy(port, BROKERS[0]!);
    try {
      await sink.send(topic, message, new Error("boom"));
      assert.equal((await admin.watermarks(topic))[0]?.high, "1");
    } finally {
      await producer.close();
      proxy.close();
    }
  });
});

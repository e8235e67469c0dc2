import assert from "node:assert/strict";
import { describeKafkaError } from "../../src/kafka/operator_error.ts";

const where = { topic: "orders", brokers: ["127.0.0.1:9999"] };

/** Errors shaped as kafkajs throws them (name, type, cause chain). */
function kafkaError(message: string, fields: Record<string, unknown> = {}, cause?: unknown): Error {
  return Object.assign(new Error(message), fields, cause === undefined ? {} : { cause });
}

Deno.test("describeKafkaError() names a missing topic", () => {
  const error = kafkaError(
    "This server does not host this topic-partition",
    { name: "KafkaJSNumberOfRetriesExceeded" },
    kafkaError("This server does not host this topic-partition", {
      name: "KafkaJSProtocolError",
      type: "UNKNOWN_TOPIC_OR_PARTITION",
    }),
  );
  assert.deepEqual(describeKafkaError(error, where), {
    kind: "topic-missing",
    message: "topic `orders` does not exist",
  });
});

Deno.test("describeKafkaError() says which brokers cannot be reached and why", () => {
  const refused = kafkaError(
    "Connection error: connect ECONNREFUSED 127.0.0.1:9999",
    { name: "KafkaJSNonRetriableError" },
    kafkaError("Connection error: connect ECONNREFUSED 127.0.0.1:9999", {
      name: "KafkaJSConnectionError",
      code: "ECONNREFUSED",
    }),
  );
  assert.deepEqual(describeKafkaError(refused, where), {
    kind: "brokers-unreachable",
    message: "cannot reach brokers 127.0.0.1:9999: connection refused",
  });
  const timeout = kafkaError("Connection timeout", { name: "KafkaJSConnectionError" });
  assert.equal(describeKafkaError(timeout, where).kind, "brokers-unreachable");
  assert.deepEqual(describeKafkaError(new Error("SASL failed"), where), {
    kind: "other",
    message: "cannot connect to Kafka: SASL failed",
  });
});

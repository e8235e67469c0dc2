import assert from "node:assert/strict";
import { describeKafkaError } from "../../../src/kafka/operator_error.ts";
import * as shapes from "./connect_error_shapes.ts";

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

// The real errors of each library, captured against the test broker's secured listeners: the same
// fault reads the same on both engines (and both runtimes).

const secured = {
  topic: "orders",
  brokers: [shapes.BROKER],
  sasl: { mechanism: "scram-sha-512", username: "consumerd" },
} as const;

Deno.test("describeKafkaError() names the user and mechanism whose authentication failed, on both engines", () => {
  for (const mechanism of ["scram-sha-512", "scram-sha-256", "plain"] as const) {
    const where = { ...secured, sasl: { mechanism, username: "consumerd" } };
    const expected = {
      kind: "authentication-failed",
      message: `authentication failed for user \`consumerd\` with ${mechanism.toUpperCase()} ` +
        "— check kafka.sasl",
    };
    assert.deepEqual(describeKafkaError(shapes.kafkajsAuthFailed(mechanism), where), expected);
    assert.deepEqual(describeKafkaError(shapes.platformaticAuthFailed(mechanism), where), expected);
  }
});

Deno.test("describeKafkaError() calls an untrusted certificate a TLS problem with kafka.ssl.ca, not unreachable brokers", () => {
  const expected = {
    kind: "tls-failed",
    message: "TLS: self-signed certificate in chain — check kafka.ssl.ca",
  };
  for (const runtime of ["deno", "bun"] as const) {
    assert.deepEqual(describeKafkaError(shapes.kafkajsWrongCa(runtime), secured), expected);
    assert.deepEqual(describeKafkaError(shapes.platformaticWrongCa(runtime), secured), expected);
  }
});

Deno.test("describeKafkaError() says TLS was tried on a plaintext listener, on both engines", () => {
  const expected = {
    kind: "tls-failed",
    message: "TLS: the handshake failed: is the port a TLS listener? — check kafka.brokers and " +
      "kafka.ssl",
  };
  assert.deepEqual(describeKafkaError(shapes.kafkajsTlsToPlaintext(), secured), expected);
  assert.deepEqual(describeKafkaError(shapes.platformaticTlsToPlaintext(), secured), expected);
  assert.deepEqual(describeKafkaError(shapes.platformaticPlaintextToTls(), secured), {
    kind: "tls-failed",
    message: "TLS: the brokers require TLS — set kafka.ssl",
  });
});

Deno.test("describeKafkaError() says the listener offers no SASL, on both engines", () => {
  const expected = {
    kind: "authentication-failed",
    message: `brokers ${shapes.BROKER} do not offer SASL SCRAM-SHA-512 — check ` +
      "kafka.sasl.mechanism, and that kafka.brokers are their SASL listener",
  };
  assert.deepEqual(describeKafkaError(shapes.kafkajsSaslOnPlaintext(), secured), expected);
  assert.deepEqual(describeKafkaError(shapes.platformaticSaslOnPlaintext(), secured), expected);
});

Deno.test("describeKafkaError() finds a refused connection inside platformatic's AggregateError too", () => {
  const expected = {
    kind: "brokers-unreachable",
    message: `cannot reach brokers ${shapes.BROKER}: connection refused`,
  };
  assert.deepEqual(describeKafkaError(shapes.kafkajsRefused(), secured), expected);
  assert.deepEqual(describeKafkaError(shapes.platformaticRefused(), secured), expected);
});

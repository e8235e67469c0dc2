/**
 * Kafka client errors in the operator's terms: "topic `orders` does not
 * exist", "cannot reach brokers 127.0.0.1:9999: connection refused", instead
 * of the client's protocol wording. Pure: it reads the error's fields only.
 *
 * @module
 */

/** What kind of problem an error is, for the consumer's state and the log's pace. */
export type OperatorErrorKind = "topic-missing" | "brokers-unreachable" | "other";

/** An error described for the person running the daemon. */
export interface OperatorError {
  kind: OperatorErrorKind;
  /** One sentence, without the config location. */
  message: string;
}

const SOCKET_CODES: Record<string, string> = {
  ECONNREFUSED: "connection refused",
  ECONNRESET: "connection reset",
  EHOSTUNREACH: "host unreachable",
  ENETUNREACH: "network unreachable",
  ENOTFOUND: "host name not found",
  EAI_AGAIN: "host name lookup failed",
  ETIMEDOUT: "connection timed out",
};

/** The error and its causes (kafkajs nests them in `cause` / `originalError`). */
function chain(error: unknown): Array<Record<string, unknown>> {
  const out: Array<Record<string, unknown>> = [];
  let current: unknown = error;
  while (typeof current === "object" && current !== null && out.length < 8) {
    const record = current as Record<string, unknown>;
    out.push(record);
    current = record.cause ?? record.originalError;
  }
  return out;
}

/**
 * Describes a Kafka client error in the config's terms.
 *
 * @example
 * ```ts
 * describeKafkaError(error, { topic: "orders", brokers: ["127.0.0.1:9999"] });
 * // { kind: "brokers-unreachable", message: "cannot reach brokers 127.0.0.1:9999: connection refused" }
 * ```
 */
export function describeKafkaError(
  error: unknown,
  { topic, brokers }: { topic: string; brokers: readonly string[] },
): OperatorError {
  const errors = chain(error);
  const text = errors.map((e) => `${String(e.type ?? "")} ${String(e.message ?? "")}`).join("\n");
  if (
    /UNKNOWN_TOPIC_OR_PARTITION|does not host this topic-partition|unknown topic/i.test(text) ||
    errors.some((e) => e.type === "UNKNOWN_TOPIC_OR_PARTITION")
  ) {
    return { kind: "topic-missing", message: `topic \`${topic}\` does not exist` };
  }
  for (const [code, words] of Object.entries(SOCKET_CODES)) {
    if (errors.some((e) => e.code === code) || new RegExp(`\\b${code}\\b`).test(text)) {
      return {
        kind: "brokers-unreachable",
        message: `cannot reach brokers ${brokers.join(",")}: ${words}`,
      };
    }
  }
  if (/Connection (error|timeout)|KafkaJSConnectionError/i.test(text)) {
    return {
      kind: "brokers-unreachable",
      message: `cannot reach brokers ${brokers.join(",")}: ${
        String(errors.at(-1)?.message ?? "connection failed")
      }`,
    };
  }
  const first = errors[0];
  return {
    kind: "other",
    message: `cannot connect to Kafka: ${
      first === undefined ? String(error) : String(first.message ?? error)
    }`,
  };
}

/**
 * Kafka client errors in the operator's terms: "topic `orders` does not
 * exist", "cannot reach brokers 127.0.0.1:9999: connection refused",
 * "authentication failed for user `app` with SCRAM-SHA-512", instead of the
 * client's protocol wording — the same words for the same fault whichever
 * engine met it. Pure: it reads the error's fields only, and never gets the
 * SASL password.
 *
 * @module
 */

/** What kind of problem an error is, for the consumer's state and the log's pace. */
export type OperatorErrorKind =
  | "topic-missing"
  | "brokers-unreachable"
  | "authentication-failed"
  | "tls-failed"
  | "other";

/** An error described for the person running the daemon. */
export interface OperatorError {
  kind: OperatorErrorKind;
  /** One sentence, without the config location. */
  message: string;
}

/** Where the error happened, in the config's terms (the SASL settings without the password). */
export interface ErrorContext {
  topic: string;
  brokers: readonly string[];
  sasl?: { mechanism: string; username: string } | null;
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

/** node:tls's certificate verification codes (Deno and Bun use them too), in a few words. */
const CERTIFICATE_CODES: Record<string, string> = {
  SELF_SIGNED_CERT_IN_CHAIN: "self-signed certificate in chain — check kafka.ssl.ca",
  DEPTH_ZERO_SELF_SIGNED_CERT: "self-signed certificate — check kafka.ssl.ca",
  UNABLE_TO_GET_ISSUER_CERT: "certificate of an unknown issuer — check kafka.ssl.ca",
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: "certificate of an unknown issuer — check kafka.ssl.ca",
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: "certificate of an unknown issuer — check kafka.ssl.ca",
  CERT_UNTRUSTED: "untrusted certificate — check kafka.ssl.ca",
  CERT_SIGNATURE_FAILURE: "certificate signature does not verify — check kafka.ssl.ca",
  CERT_HAS_EXPIRED: "the brokers' certificate has expired",
  CERT_NOT_YET_VALID: "the brokers' certificate is not valid yet",
  ERR_TLS_CERT_ALTNAME_INVALID:
    "the brokers' certificate does not name the host in kafka.brokers — check kafka.brokers",
};

/** The SASL mechanism as Kafka spells it. */
const MECHANISMS: Record<string, string> = {
  plain: "PLAIN",
  "scram-sha-256": "SCRAM-SHA-256",
  "scram-sha-512": "SCRAM-SHA-512",
};

type ErrorRecord = Record<string, unknown>;

/**
 * The error and every error inside it, depth first: kafkajs nests them in
 * `cause` / `originalError`, @platformatic/kafka also in an AggregateError's
 * `errors` (one per attempt and broker).
 */
function allErrors(error: unknown): ErrorRecord[] {
  const out: ErrorRecord[] = [];
  const visit = (current: unknown, depth: number) => {
    if (typeof current !== "object" || current === null || depth > 8 || out.length >= 64) return;
    const record = current as ErrorRecord;
    if (out.includes(record)) return;
    out.push(record);
    visit(record.cause ?? record.originalError, depth + 1);
    if (Array.isArray(record.errors)) {
      for (const inner of record.errors) {
        visit(inner, depth + 1);
      }
    }
  };
  visit(error, 0);
  return out;
}

/** The protocol error names of a record: kafkajs's `type`, @platformatic/kafka's `apiId`. */
function protocolIds(e: ErrorRecord): unknown[] {
  return [e.type, e.apiId];
}

function authenticationProblem(
  errors: readonly ErrorRecord[],
  text: string,
  { brokers, sasl }: ErrorContext,
): OperatorError | null {
  const ids = errors.flatMap(protocolIds);
  const failed = ids.includes("SASL_AUTHENTICATION_FAILED") ||
    errors.some((e) =>
      e.name === "KafkaJSSASLAuthenticationError" || e.code === "PLT_KFK_AUTHENTICATION"
    );
  const unoffered = ids.includes("ILLEGAL_SASL_STATE") ||
    ids.includes("UNSUPPORTED_SASL_MECHANISM") ||
    /mechanism is not supported by the server|Cannot find a suitable SASL mechanism/i.test(text);
  if (!failed && !unoffered) return null;
  const mechanism = sasl ? MECHANISMS[sasl.mechanism] ?? sasl.mechanism : null;
  if (mechanism === null) {
    return { kind: "authentication-failed", message: "the brokers ask for SASL — set kafka.sasl" };
  }
  if (unoffered) {
    return {
      kind: "authentication-failed",
      message: `brokers ${brokers.join(",")} do not offer SASL ${mechanism} — check ` +
        "kafka.sasl.mechanism, and that kafka.brokers are their SASL listener",
    };
  }
  return {
    kind: "authentication-failed",
    message: `authentication failed for user \`${sasl!.username}\` with ${mechanism} — check ` +
      "kafka.sasl",
  };
}

function tlsProblem(errors: readonly ErrorRecord[], text: string): OperatorError | null {
  for (const e of errors) {
    const words = typeof e.code === "string" ? CERTIFICATE_CODES[e.code] : undefined;
    if (words !== undefined) return { kind: "tls-failed", message: `TLS: ${words}` };
  }
  if (/secure TLS connection was established|TLS handshake failed/i.test(text)) {
    return {
      kind: "tls-failed",
      message: "TLS: the handshake failed: is the port a TLS listener? — check kafka.brokers " +
        "and kafka.ssl",
    };
  }
  if (/Broker requires TLS/i.test(text)) {
    return { kind: "tls-failed", message: "TLS: the brokers require TLS — set kafka.ssl" };
  }
  const tls = errors.find((e) => /^ERR_TLS_|^ERR_SSL_|CERT/.test(String(e.code ?? "")));
  return tls === undefined
    ? null
    : { kind: "tls-failed", message: `TLS: ${String(tls.message)} — check kafka.ssl` };
}

/** The message of the innermost error on the first path down: the client's most specific words. */
function innermostMessage(error: unknown): string {
  let current = error;
  for (let depth = 0; depth < 8; depth++) {
    if (typeof current !== "object" || current === null) break;
    const record = current as ErrorRecord;
    const next = record.cause ?? record.originalError ??
      (Array.isArray(record.errors) ? record.errors[0] : undefined);
    if (typeof next !== "object" || next === null) break;
    current = next;
  }
  const message = typeof current === "object" && current !== null
    ? (current as ErrorRecord).message
    : undefined;
  return String(message ?? current);
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
export function describeKafkaError(error: unknown, context: ErrorContext): OperatorError {
  const { topic, brokers } = context;
  const errors = allErrors(error);
  const text = errors.map((e) => `${String(e.type ?? "")} ${String(e.message ?? "")}`).join("\n");
  if (
    /UNKNOWN_TOPIC_OR_PARTITION|does not host this topic-partition|unknown topic/i.test(text) ||
    errors.some((e) => protocolIds(e).includes("UNKNOWN_TOPIC_OR_PARTITION"))
  ) {
    return { kind: "topic-missing", message: `topic \`${topic}\` does not exist` };
  }
  const problem = authenticationProblem(errors, text, context) ?? tlsProblem(errors, text);
  if (problem !== null) return problem;
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
      message: `cannot reach brokers ${brokers.join(",")}: ${innermostMessage(error)}`,
    };
  }
  return { kind: "other", message: `cannot connect to Kafka: ${innermostMessage(error)}` };
}

/**
 * The errors each client library throws when it cannot connect, shaped field for field as they
 * were captured from runs against the test broker's secured listeners (kafkajs 2.2.4 and
 * @platformatic/kafka 2.12.1, on Deno and on Bun; only the TLS wording differs between runtimes).
 * Plain errors with the same fields: the operator messages read fields only.
 *
 * @module
 */

/** The broker the captures were made against. */
export const BROKER = "127.0.0.1:49096";
/** The runtimes' wordings of one TLS verification failure (Node's code is the same on both). */
export const SELF_SIGNED_IN_CHAIN = {
  deno: "self-signed certificate in certificate chain",
  bun: "self signed certificate in certificate chain",
} as const;

function error(message: string, fields: Record<string, unknown> = {}): Error {
  return Object.assign(new Error(message), fields);
}

function aggregate(errors: unknown[], message: string, fields: Record<string, unknown>): Error {
  return Object.assign(new AggregateError(errors, message), fields);
}

// ------------------------------------------------------------------------------------ kafkajs --

/** kafkajs, wrong password: thrown by the SASL authenticator, no cause. */
export function kafkajsAuthFailed(mechanism: "scram-sha-512" | "scram-sha-256" | "plain"): Error {
  const message = {
    "scram-sha-512":
      "SASL SCRAM SHA512 authentication failed: Authentication failed during authentication due to invalid credentials with SASL mechanism SCRAM-SHA-512",
    "scram-sha-256":
      "SASL SCRAM SHA256 authentication failed: Authentication failed during authentication due to invalid credentials with SASL mechanism SCRAM-SHA-256",
    plain: "SASL PLAIN authentication failed: Authentication failed: Invalid username or password",
  }[mechanism];
  return error(message, { name: "KafkaJSSASLAuthenticationError", retriable: false });
}

/** kafkajs, a connection failure after its retries: the socket error's code on the cause. */
function kafkajsConnectionFailed(message: string, code: string): Error {
  const text = `Connection error: ${message}`;
  return error(text, {
    name: "KafkaJSNumberOfRetriesExceeded",
    retriable: false,
    retryCount: 2,
    retryTime: 1196,
    cause: error(text, {
      name: "KafkaJSConnectionError",
      retriable: true,
      broker: BROKER,
      code,
    }),
  });
}

/** kafkajs, wrong CA (or none): the broker's chain ends in a CA the client does not trust. */
export function kafkajsWrongCa(runtime: "deno" | "bun"): Error {
  return kafkajsConnectionFailed(SELF_SIGNED_IN_CHAIN[runtime], "SELF_SIGNED_CERT_IN_CHAIN");
}

/** kafkajs, TLS to a plaintext listener. */
export function kafkajsTlsToPlaintext(): Error {
  return kafkajsConnectionFailed(
    "Client network socket disconnected before secure TLS connection was established",
    "ECONNRESET",
  );
}

/** kafkajs, nothing listens. */
export function kafkajsRefused(): Error {
  return kafkajsConnectionFailed("connect ECONNREFUSED 127.0.0.1:1", "ECONNREFUSED");
}

/** kafkajs, SASL against a listener without it: the SaslHandshake's error code. */
export function kafkajsSaslOnPlaintext(): Error {
  return error("Request is not valid given the current SASL state", {
    name: "KafkaJSProtocolError",
    retriable: false,
    type: "ILLEGAL_SASL_STATE",
    code: 34,
  });
}

// ------------------------------------------------------------------------------- platformatic --

/**
 * @platformatic/kafka, a connection failure: "metadata failed 6 times." holding one "Cannot
 * connect to any broker." per attempt (three kept), each holding the broker's NetworkError with
 * the real reason as its cause.
 */
function platformaticMetadataFailed(reason: unknown): Error {
  const attempt = () =>
    aggregate(
      [error(`Connection to ${BROKER} failed.`, {
        code: "PLT_KFK_NETWORK",
        canRetry: true,
        cause: reason,
      })],
      "Cannot connect to any broker.",
      { code: "PLT_KFK_MULTIPLE" },
    );
  return aggregate([attempt(), attempt(), attempt()], "metadata failed 6 times.", {
    code: "PLT_KFK_MULTIPLE",
  });
}

/** A broker's error answer to `api`, as @platformatic/kafka wraps it. */
function platformaticResponseError(
  api: string,
  response: Record<string, unknown>,
  protocol: { message: string; apiId: string; apiCode: number; serverErrorMessage: string | null },
): Error {
  return aggregate(
    [error(protocol.message, {
      code: "PLT_KFK_PROTOCOL",
      canRetry: false,
      hasStaleMetadata: false,
      needsRejoin: false,
      ...protocol,
    })],
    `Received response with error while executing API ${api}`,
    { code: "PLT_KFK_RESPONSE", response },
  );
}

/** @platformatic/kafka, wrong password. */
export function platformaticAuthFailed(
  mechanism: "scram-sha-512" | "scram-sha-256" | "plain",
): Error {
  const serverErrorMessage = mechanism === "plain"
    ? "Authentication failed: Invalid username or password"
    : `Authentication failed during authentication due to invalid credentials with SASL mechanism ${mechanism.toUpperCase()}`;
  return platformaticMetadataFailed(error("SASL authentication failed.", {
    code: "PLT_KFK_AUTHENTICATION",
    canRetry: false,
    cause: platformaticResponseError(
      "SaslAuthenticate(v2)",
      { errorCode: 58, errorMessage: serverErrorMessage, sessionLifetimeMs: 0n },
      {
        message: "SASL authentication failed.",
        apiId: "SASL_AUTHENTICATION_FAILED",
        apiCode: 58,
        serverErrorMessage,
      },
    ),
  }));
}

/** @platformatic/kafka, wrong CA (or none): node:tls's error as the NetworkError's cause. */
export function platformaticWrongCa(runtime: "deno" | "bun"): Error {
  return platformaticMetadataFailed(
    error(SELF_SIGNED_IN_CHAIN[runtime], {
      code: "SELF_SIGNED_CERT_IN_CHAIN",
      ...(runtime === "bun" ? { errno: 0 } : {}),
    }),
  );
}

/** @platformatic/kafka, TLS to a plaintext listener: its own hint around the socket error. */
export function platformaticTlsToPlaintext(): Error {
  return platformaticMetadataFailed(
    error("TLS handshake failed. Please verify the broker supports TLS.", {
      code: "PLT_KFK_USER",
      canRetry: false,
      cause: error(
        "Client network socket disconnected before secure TLS connection was established",
        { code: "ECONNRESET", host: "127.0.0.1", port: 49092 },
      ),
    }),
  );
}

/** @platformatic/kafka, plaintext to a TLS listener: it recognises the TLS record and gives up. */
export function platformaticPlaintextToTls(): Error {
  return error("Broker requires TLS.", { code: "PLT_KFK_USER", canRetry: false });
}

/** @platformatic/kafka, SASL against a listener without it. */
export function platformaticSaslOnPlaintext(): Error {
  return platformaticMetadataFailed(error("Cannot find a suitable SASL mechanism.", {
    code: "PLT_KFK_AUTHENTICATION",
    canRetry: false,
    cause: platformaticResponseError("SaslHandshake(v1)", { errorCode: 34, mechanisms: [] }, {
      message: "Request is not valid given the current SASL state.",
      apiId: "ILLEGAL_SASL_STATE",
      apiCode: 34,
      serverErrorMessage: null,
    }),
  }));
}

/** @platformatic/kafka, nothing listens. */
export function platformaticRefused(): Error {
  return platformaticMetadataFailed(error("connect ECONNREFUSED 127.0.0.1:1", {
    errno: -111,
    code: "ECONNREFUSED",
    syscall: "connect",
    address: "127.0.0.1",
    port: 1,
  }));
}

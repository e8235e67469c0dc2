/**
 * The test broker's secured listeners (scripts/broker.ts): SASL_SSL with the user
 * {@linkcode BROKER_USER} (SCRAM-SHA-512, SCRAM-SHA-256, PLAIN) and SSL without SASL, both behind
 * the CA the broker made at its first start. Configs for them, right and wrong.
 *
 * @module
 */
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { KafkaConfig } from "../../src/config/types.ts";
import { BROKER_USER, brokerOptions, brokerTls, portOpen } from "../../scripts/broker.ts";
import { TEST_KAFKA } from "./kafka.ts";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

/**
 * A CA certificate that signed nothing the broker has (its key was thrown away): the wrong
 * `kafka.ssl.ca`.
 */
export const UNRELATED_CA = join(ROOT, "tests", "fixtures", "tls", "unrelated_ca.pem");

/** Which of the secured listeners, and how a client authenticates on it. */
export interface SecuredOptions {
  /** `sasl_ssl` (default) or `ssl` (TLS only, no SASL). */
  listener?: "sasl_ssl" | "ssl";
  mechanism?: "scram-sha-512" | "scram-sha-256" | "plain";
  /** Default: the broker user's own. */
  password?: string;
  /** PEM text of the CA to trust; default: the broker's. */
  ca?: string;
}

/**
 * The `kafka:` settings that reach the test broker's secured listener, as a
 * {@linkcode KafkaConfig}. Fails, naming the fix, when the broker has no such listener (one
 * started before it was configured).
 *
 * @example
 * ```ts
 * const kafka = await securedKafka({ mechanism: "scram-sha-256" });
 * ```
 */
export async function securedKafka(
  { listener = "sasl_ssl", mechanism = "scram-sha-512", password, ca }: SecuredOptions = {},
): Promise<KafkaConfig> {
  const options = brokerOptions();
  const port = listener === "ssl" ? options.sslPort : options.saslSslPort;
  if (!await portOpen(options.host, port)) {
    throw new Error(
      `Cannot reach the broker's ${listener.toUpperCase()} listener on ${options.host}:${port}: ` +
        "restart it (deno task kafka down, then up) so that it reads config/kafka/server.properties again",
    );
  }
  return {
    ...TEST_KAFKA,
    brokers: [`${options.host}:${port}`],
    clientId: "consumerd-test",
    ssl: { ca: ca ?? await Deno.readTextFile(brokerTls(options).caPem), rejectUnauthorized: true },
    sasl: listener === "ssl" ? null : {
      mechanism,
      username: BROKER_USER.username,
      password: password ?? BROKER_USER.password,
    },
  };
}

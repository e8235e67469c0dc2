/**
 * Which cluster the offset commands talk to: `--brokers`, else the config
 * file's `kafka:` section (its TLS and SASL settings included), else
 * `KAFKA_BROKERS`, else 127.0.0.1:9092. When the config file is read, also
 * where the daemon it configures serves its status.
 *
 * @module
 */
import { existsSync } from "node:fs";
import type { HostPort } from "../config/host_port.ts";
import { loadConfigFile } from "../config/load.ts";
import type { KafkaConfig } from "../config/types.ts";
import { formatListen } from "../http/server.ts";
import { flag, type ParsedArgs } from "./args.ts";

/** A daemon's status server as a command reaches it. */
export interface DaemonTarget {
  url: string;
  token: string | null;
}

/** The cluster a command talks to, and the daemon its config file describes (or null). */
export interface CommandTarget {
  kafka: KafkaConfig;
  daemon: DaemonTarget | null;
}

/**
 * The URL a client on the same machine reaches `listen` at: a wildcard
 * address by loopback; null for port 0 (only the daemon knows its port).
 *
 * @example
 * ```ts
 * statusUrl({ host: "0.0.0.0", port: 9464 }); // "http://127.0.0.1:9464/"
 * ```
 */
export function statusUrl(listen: HostPort): string | null {
  if (listen.port === 0) return null;
  const host = listen.host === "0.0.0.0" ? "127.0.0.1" : listen.host === "::" ? "::1" : listen.host;
  return `http://${formatListen({ host, port: listen.port })}/`;
}

/** Resolves the cluster settings for a command. */
export async function kafkaTarget(
  parsed: ParsedArgs,
  { configPath, env }: { configPath: string; env: (name: string) => string | undefined },
): Promise<CommandTarget> {
  const base: KafkaConfig = {
    brokers: (env("KAFKA_BROKERS") ?? "127.0.0.1:9092").split(",").map((b) => b.trim()),
    clientId: "consumerd-cli",
    ssl: false,
    sasl: null,
    engine: "kafkajs",
    groupProtocol: "classic",
    groupRemoteAssignor: null,
    instanceId: "",
    sessionTimeoutMs: 30000,
  };
  const brokers = flag(parsed, "brokers", "");
  if (brokers !== "") {
    return { kafka: { ...base, brokers: brokers.split(",").map((b) => b.trim()) }, daemon: null };
  }
  if (parsed.flags.has("config") || existsSync(configPath)) {
    // A config given on purpose must load; its errors are the operator's to fix.
    const config = await loadConfigFile(configPath, { checkHandlers: false });
    const url = config.http === false ? null : statusUrl(config.http);
    return {
      kafka: { ...config.kafka, clientId: `${config.kafka.clientId}-cli` },
      daemon: url === null ? null : { url, token: config.httpToken ?? null },
    };
  }
  return { kafka: base, daemon: null };
}

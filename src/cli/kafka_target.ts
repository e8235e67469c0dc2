/**
 * Which cluster the offset commands talk to: `--brokers`, else the config
 * file's `kafka:` section (its TLS and SASL settings included), else
 * `KAFKA_BROKERS`, else 127.0.0.1:9092.
 *
 * @module
 */
import { existsSync } from "node:fs";
import { loadConfigFile } from "../config/load.ts";
import type { KafkaConfig } from "../config/types.ts";
import { flag, type ParsedArgs } from "./args.ts";

/** Resolves the cluster settings for a command. */
export async function kafkaTarget(
  parsed: ParsedArgs,
  { configPath, env }: { configPath: string; env: (name: string) => string | undefined },
): Promise<KafkaConfig> {
  const base: KafkaConfig = {
    brokers: (env("KAFKA_BROKERS") ?? "127.0.0.1:9092").split(",").map((b) => b.trim()),
    clientId: "consumerd-cli",
    ssl: false,
    sasl: null,
    engine: "kafkajs",
  };
  const brokers = flag(parsed, "brokers", "");
  if (brokers !== "") return { ...base, brokers: brokers.split(",").map((b) => b.trim()) };
  if (parsed.flags.has("config") || existsSync(configPath)) {
    // A config given on purpose must load; its errors are the operator's to fix.
    const config = await loadConfigFile(configPath, { checkHandlers: false });
    return { ...config.kafka, clientId: `${config.kafka.clientId}-cli` };
  }
  return base;
}

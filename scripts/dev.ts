/**
 * `deno task dev [--config consumers.yaml]`: starts the local broker (unless
 * one runs), creates the config's topics if missing, runs the daemon, and
 * stops the broker again on exit if it started it.
 *
 * @module
 */
import { flag, parseArgs } from "../src/cli/args.ts";
import { runDaemon } from "../src/cli/run.ts";
import { loadConfigFile } from "../src/config/load.ts";
import { KafkaAdmin } from "../src/kafka/kafkajs/admin.ts";
import { runtime } from "../src/runtime/mod.ts";
import { brokerDown, BrokerError, brokerOptions, ensureBroker } from "./broker.ts";

const parsed = parseArgs(Deno.args);
const configPath = flag(parsed, "config", Deno.env.get("CONSUMERD_CONFIG") ?? "consumers.yaml");
const logFormat = flag(parsed, "log-format", "pretty") === "json" ? "json" : "pretty";
const broker = brokerOptions();

let started = false;
try {
  started = await ensureBroker(broker);
} catch (error) {
  if (error instanceof BrokerError) {
    console.error(`error: ${error.message}`);
    Deno.exit(1);
  }
  throw error;
}

let code = 1;
try {
  const config = await loadConfigFile(configPath);
  const admin = await KafkaAdmin.connect(config.kafka, "dev");
  for (const topic of new Set(config.consumers.map((c) => c.topic))) {
    if (await admin.ensureTopic(topic, { partitions: 3 })) {
      console.error(`Created topic ${topic} (3 partitions)`);
    }
  }
  await admin.close();
  console.error(
    `Produce to it with: deno task kafka tool console-producer --bootstrap-server ${broker.host}:${broker.port} --topic ${
      config.consumers[0]?.topic ?? "<topic>"
    }`,
  );
  code = await runDaemon({ configPath, runtime, logFormat });
} catch (error) {
  console.error(`error: ${(error as Error).message}`);
} finally {
  if (started) {
    await brokerDown(broker);
    console.error("Kafka broker stopped");
  }
}
Deno.exit(code);

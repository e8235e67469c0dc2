/**
 * `deno task kafka up|down|status|tool <name> [args…]|jars` — the development broker.
 *
 * @module
 */
import {
  brokerDown,
  BrokerError,
  brokerOptions,
  ensureBroker,
  ensureJars,
  KAFKA_TOOLS,
  kafkaTool,
  runningBrokerPid,
} from "./broker.ts";

const USAGE = `usage: deno task kafka <command>
  up                 start the broker on $KAFKA_HOST:$KAFKA_PORT (127.0.0.1:9092), if not running
  down [--clean]     stop it (and with --clean delete its data)
  status             say whether it runs
  jars               resolve the Kafka jars into the cache
  tool <name> [args] run a Kafka tool: ${Object.keys(KAFKA_TOOLS).join(", ")}`;

async function main(args: string[]): Promise<number> {
  const options = brokerOptions();
  const [command, ...rest] = args;
  switch (command) {
    case "up":
      await ensureBroker(options);
      return 0;
    case "down": {
      const stopped = await brokerDown(options);
      if (rest.includes("--clean")) {
        await Deno.remove(`${options.stateDir}/data`, { recursive: true }).catch(() => {});
      }
      console.error(stopped ? "Kafka broker stopped" : "No Kafka broker was running");
      return 0;
    }
    case "status": {
      const pid = await runningBrokerPid(options);
      console.log(
        pid === null ? "stopped" : `running on ${options.host}:${options.port} (pid ${pid})`,
      );
      return pid === null ? 3 : 0;
    }
    case "jars":
      console.log(await ensureJars());
      return 0;
    case "tool": {
      const [name, ...toolArgs] = rest;
      if (name === undefined) {
        console.error(USAGE);
        return 2;
      }
      return (await kafkaTool(name, toolArgs, { inherit: true })).code;
    }
    default:
      console.error(USAGE);
      return 2;
  }
}

try {
  Deno.exit(await main(Deno.args));
} catch (error) {
  if (error instanceof BrokerError || error instanceof RangeError) {
    console.error(`error: ${error.message}`);
    Deno.exit(1);
  }
  throw error;
}

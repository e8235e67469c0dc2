/**
 * consumerd's command line.
 *
 * ```sh
 * deno run -A --unstable-worker-options --v8-flags=--expose-gc src/main.ts run --config consumers.yaml
 * ```
 *
 * @module
 */
import { flag, parseArgs, type ParsedArgs } from "./cli/args.ts";
import { runDaemon } from "./cli/run.ts";
import { runtime } from "./runtime/mod.ts";

const USAGE = `usage: consumerd <command> [options]

commands:
  run     [--config consumers.yaml] [--log-format json|pretty]   run the daemon
  check   [--config consumers.yaml]                               validate the config
  check   --diff [--url http://127.0.0.1:9464] [--token T]        what a reload of the file would do
                                                                  to the running daemon (also: plan)
  schema                                                          print the config's JSON Schema
  types   [--out consumerd.d.ts]                                  the handler API as one declaration file
  init    <dir>                                                   scaffold a handler project in <dir>
  status  [--url http://127.0.0.1:9464] [--json] [--token T]      a running daemon's consumers, partitions, lag
  offsets --group G --topic T [--json] [--brokers B]              committed offsets and lag, read from Kafka
  reset-offsets --group G --topic T --to earliest|latest|<offset>|<ISO time>
          [--partitions 0,2] [--dry-run] [--brokers B]            move a stopped group's committed offsets
          [--url U] [--watch-ms 6000] [--force]                   (see below)

The config path may also come from CONSUMERD_CONFIG. offsets and reset-offsets use
--brokers, else the config's kafka section, else KAFKA_BROKERS. status sends
CONSUMERD_TOKEN (or --token) as the bearer token. reset-offsets refuses while the
group has members, while the daemon at --url (else the config's http.listen) runs a
consumer of the group and topic, and while the committed offsets move during
--watch-ms (a simple-mode consumer commits without joining the group); --force
skips the last two.`;

/** Runs one command; resolves to the process exit code. */
export async function main(args: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs(args, ["help", "diff", "json", "dry-run", "force"]);
  } catch (error) {
    console.error(`error: ${(error as Error).message}`);
    return 2;
  }
  const [command] = parsed.positionals;
  const configPath = flag(parsed, "config", runtime.env("CONSUMERD_CONFIG") ?? "consumers.yaml");
  const logFormat = flag(parsed, "log-format", "json");
  if (logFormat !== "json" && logFormat !== "pretty") {
    console.error(`error: --log-format must be json or pretty, not "${logFormat}"`);
    return 2;
  }
  switch (command) {
    case "run":
      return await runDaemon({ configPath, runtime, logFormat });
    case "plan":
    case "check": {
      // Each handler is imported as its worker imports it: with exactly its consumer's permissions.
      const { workerProbe } = await import("./supervisor/handler_probe.ts");
      const probeHandler = workerProbe(runtime);
      if (command === "plan" || parsed.flags.has("diff")) {
        const { DEFAULT_STATUS_URL, planCommand } = await import("./cli/plan.ts");
        return await planCommand({
          config: configPath,
          url: flag(parsed, "url", DEFAULT_STATUS_URL),
          token: flag(parsed, "token", runtime.env("CONSUMERD_TOKEN") ?? ""),
          probeHandler,
        });
      }
      const { checkCommand } = await import("./cli/check.ts");
      const { listTopicsWithin } = await import("./cli/topic_check.ts");
      return await checkCommand({
        config: configPath,
        probeHandler,
        listTopics: listTopicsWithin,
        sandboxed: runtime.sandbox,
      });
    }
    case "schema": {
      const { schemaCommand } = await import("./cli/schema.ts");
      return await schemaCommand();
    }
    case "init": {
      const dir = parsed.positionals[1];
      if (dir === undefined) {
        console.error(`error: init needs the directory to write into\n\n${USAGE}`);
        return 2;
      }
      const { initCommand } = await import("./cli/init.ts");
      return await initCommand({ dir });
    }
    case "types": {
      const { typesCommand } = await import("./cli/types.ts");
      const out = flag(parsed, "out", "");
      return await typesCommand({ out: out === "" ? undefined : out });
    }
    case "status": {
      const { statusCommand } = await import("./cli/status.ts");
      const token = flag(parsed, "token", runtime.env("CONSUMERD_TOKEN") ?? "");
      return await statusCommand({
        url: flag(parsed, "url", "http://127.0.0.1:9464"),
        json: parsed.flags.has("json"),
        token: token === "" ? undefined : token,
      });
    }
    case "offsets":
    case "reset-offsets":
      return await offsetCommands(command, parsed, configPath);
    default:
      console.error(USAGE);
      return command === undefined || parsed.flags.has("help") ? 0 : 2;
  }
}

async function offsetCommands(
  command: "offsets" | "reset-offsets",
  parsed: ParsedArgs,
  configPath: string,
): Promise<number> {
  const group = flag(parsed, "group", "");
  const topic = flag(parsed, "topic", "");
  const to = flag(parsed, "to", "");
  const missing = [
    ...(group === "" ? ["--group"] : []),
    ...(topic === "" ? ["--topic"] : []),
    ...(command === "reset-offsets" && to === "" ? ["--to"] : []),
  ];
  if (missing.length > 0) {
    console.error(`error: ${command} needs ${missing.join(", ")}\n\n${USAGE}`);
    return 2;
  }
  const { kafkaTarget } = await import("./cli/kafka_target.ts");
  const { ConfigError, formatIssue } = await import("./config/error.ts");
  let target;
  try {
    target = await kafkaTarget(parsed, { configPath, env: runtime.env });
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    for (const issue of error.issues) console.error(formatIssue(issue));
    return 1;
  }
  const { kafka } = target;
  const { DEFAULT_WATCH_MS, offsetsCommand, resetOffsetsCommand } = await import(
    "./cli/offsets.ts"
  );
  if (command === "offsets") {
    return await offsetsCommand({ kafka, group, topic, json: parsed.flags.has("json") });
  }
  const watch = flag(parsed, "watch-ms", String(DEFAULT_WATCH_MS));
  if (!/^[0-9]{1,9}$/.test(watch)) {
    console.error(`error: --watch-ms must be a number of milliseconds, not "${watch}"`);
    return 2;
  }
  const url = flag(parsed, "url", "");
  const token = flag(parsed, "token", runtime.env("CONSUMERD_TOKEN") ?? "");
  const partitions = flag(parsed, "partitions", "");
  return await resetOffsetsCommand({
    kafka,
    group,
    topic,
    to,
    partitions: partitions === "" ? undefined : partitions,
    dryRun: parsed.flags.has("dry-run"),
    daemon: url === "" ? target.daemon : {
      url,
      token: token !== "" ? token : target.daemon?.token ?? null,
    },
    watchMs: Number(watch),
    force: parsed.flags.has("force"),
  });
}

if (import.meta.main) {
  runtime.exit(await main(runtime.args()));
}

/**
 * consumerd's command line.
 *
 * ```sh
 * deno run -A --unstable-worker-options src/main.ts run --config consumers.yaml
 * ```
 *
 * @module
 */
import { flag, parseArgs } from "./cli/args.ts";
import { runDaemon } from "./cli/run.ts";
import { runtime } from "./runtime/mod.ts";

const USAGE = `usage: consumerd <command> [options]

commands:
  run     [--config consumers.yaml] [--log-format json|pretty]   run the daemon
  check   [--config consumers.yaml]                               validate the config
  check   --diff [--url http://127.0.0.1:9464] [--token T]        what a reload of the file would do
                                                                  to the running daemon (also: plan)
  schema                                                          print the config's JSON Schema

The config path may also come from CONSUMERD_CONFIG.`;

/** Runs one command; resolves to the process exit code. */
export async function main(args: string[]): Promise<number> {
  const parsed = parseArgs(args, ["help", "diff"]);
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
      if (command === "plan" || parsed.flags.has("diff")) {
        const { DEFAULT_STATUS_URL, planCommand } = await import("./cli/plan.ts");
        return await planCommand({
          config: configPath,
          url: flag(parsed, "url", DEFAULT_STATUS_URL),
          token: flag(parsed, "token", runtime.env("CONSUMERD_TOKEN") ?? ""),
        });
      }
      const { checkCommand } = await import("./cli/check.ts");
      return await checkCommand({ config: configPath });
    }
    case "schema": {
      const { schemaCommand } = await import("./cli/schema.ts");
      return await schemaCommand();
    }
    default:
      console.error(USAGE);
      return command === undefined || parsed.flags.has("help") ? 0 : 2;
  }
}

if (import.meta.main) {
  runtime.exit(await main(runtime.args()));
}

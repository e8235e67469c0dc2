/**
 * The JavaScript runtimes a benchmark client runs on, and how to start a
 * script on each.
 *
 * @module
 */
import { join } from "node:path";
import { fileURLToPath } from "node:url";

/** The repository root. */
export const ROOT: string = fileURLToPath(new URL("../", import.meta.url));

/** A JavaScript runtime. */
export type JsRuntime = "node" | "deno" | "bun";

/** The Bun binary installed from npm. */
export const BUN: string = join(ROOT, "node_modules", "bun", "bin", "bun.exe");

/**
 * The command line that runs `script` with `args` on `runtime`. Deno gets
 * every permission (and worker options, for the daemon) plus `denoFlags`;
 * Node comes from PATH.
 *
 * @example
 * ```ts
 * const [command, args] = scriptCommand("bun", "bench/clients/kafkajs_consumer.mjs", []);
 * ```
 */
export function scriptCommand(
  runtime: JsRuntime,
  script: string,
  args: string[],
  { denoFlags = [] }: { denoFlags?: string[] } = {},
): [string, string[]] {
  const path = join(ROOT, script);
  switch (runtime) {
    case "node":
      return ["node", [path, ...args]];
    case "deno":
      return [
        Deno.execPath(),
        ["run", "-A", "--unstable-worker-options", ...denoFlags, path, ...args],
      ];
    case "bun":
      return [BUN, [path, ...args]];
  }
}

/** The version a runtime reports, for the report's header. */
export async function runtimeVersion(runtime: JsRuntime | "java" | "go"): Promise<string> {
  const [command, args] = runtime === "java"
    ? ["java", ["-version"]]
    : runtime === "go"
    ? ["go", ["version"]]
    : runtime === "deno"
    ? [Deno.execPath(), ["--version"]]
    : [runtime === "bun" ? BUN : "node", ["--version"]];
  try {
    const out = await new Deno.Command(command, { args }).output();
    const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
    return text.trim().split("\n")[0] ?? "?";
  } catch (error) {
    return `unavailable (${(error as Error).message})`;
  }
}

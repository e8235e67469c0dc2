/**
 * B1 and B2: a consumer script from bench/clients/ in its own process, on
 * Node, Deno or Bun; and the line protocol every client process speaks.
 *
 * @module
 */
import { MeasuredProcess } from "./child.ts";
import { type Client, doneTimeoutMs, type Family, FIRST_MESSAGE_TIMEOUT_MS } from "./client.ts";
import { type JsRuntime, ROOT, scriptCommand } from "./runtimes.ts";
import { measureWindow, type Sample } from "./sample.ts";
import type { SeededTopic } from "./seed.ts";

/** Options for {@linkcode scriptClient}. */
export interface ScriptClientOptions {
  family: Extract<Family, "B1" | "B2">;
  runtime: JsRuntime;
  mode: "message" | "batch";
  /** Path of the script, relative to the repository root. */
  script: string;
  /** How the mode is named in the report, e.g. `eachBatch`. */
  modeName: string;
  brokers: string[];
  /** Extra `deno run` flags (Deno only), e.g. for profiling. */
  denoFlags?: string[];
}

/**
 * A client that runs a script speaking bench/clients/report.mjs's protocol.
 *
 * @example
 * ```ts
 * scriptClient({
 *   family: "B1", runtime: "bun", mode: "batch", modeName: "eachBatch",
 *   script: "bench/clients/kafkajs_consumer.mjs", brokers: ["127.0.0.1:9092"],
 * });
 * ```
 */
export function scriptClient(options: ScriptClientOptions): Client {
  const { family, runtime, mode, script, modeName, brokers, denoFlags = [] } = options;
  return {
    label: `${family} ${runtime} ${modeName}`,
    family,
    runtime,
    mode,
    async run(topic, group) {
      const [command, args] = scriptCommand(runtime, script, [
        brokers.join(","),
        topic.topic,
        group,
        String(topic.count),
        mode,
      ], { denoFlags });
      return await measureProtocolClient(command, args, topic);
    },
  };
}

/**
 * Runs a client process that speaks bench/clients/report.mjs's protocol on
 * stdout until it reports the last of `topic.count` messages, measured
 * (bench/sample.ts); then closes its stdin and stops it. A failure carries
 * the client's own `{"bench":"error"}` message when it printed one.
 */
export async function measureProtocolClient(
  command: string,
  args: string[],
  topic: SeededTopic,
): Promise<Sample> {
  const process = new MeasuredProcess(command, args, { cwd: ROOT, stdin: true });
  try {
    return await measureWindow(process, {
      first: (r, stream) => stream === "stdout" && r.bench === "first",
      done: (r, stream) => stream === "stdout" && r.bench === "done",
    }, { firstTimeoutMs: FIRST_MESSAGE_TIMEOUT_MS, doneTimeoutMs: doneTimeoutMs(topic) });
  } catch (error) {
    throw new Error(clientError(process.tail) ?? (error as Error).message, { cause: error });
  } finally {
    await process.closeStdin();
    await process.stop(10_000);
  }
}

/** The message of the client's `{"bench":"error"}` line, first line only. */
export function clientError(tail: string[]): string | null {
  for (const line of tail) {
    if (!line.startsWith('{"bench":"error"')) continue;
    try {
      return String(JSON.parse(line).message).split("\n")[0] ?? null;
    } catch {
      return null;
    }
  }
  return null;
}

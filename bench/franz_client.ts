/**
 * B3: franz-go, the fastest Kafka client we know of, as a small Go program
 * (bench/clients/franz/) built with the machine's Go into `.cache/bench/`
 * (once per source and Go version; modules from the Go module proxy or its
 * local cache, pinned by the committed go.sum). Same fetch settings, group
 * and window as the JavaScript clients; it speaks the same line protocol.
 *
 * @module
 */
import { join } from "node:path";
import { cachedBuild, runBuildCommand } from "./build_cache.ts";
import type { Client } from "./client.ts";
import { ROOT } from "./runtimes.ts";
import { measureProtocolClient } from "./script_client.ts";

/** The Go module of the franz-go client, relative to the repository root. */
export const FRANZ_MODULE = "bench/clients/franz";

const BINARY = "franz-consumer";

/** Builds the franz-go client unless the cache holds it; returns the binary's path. */
export async function ensureFranzBinary(): Promise<string> {
  const dir = await cachedBuild({
    name: BINARY,
    sources: ["main.go", "go.mod", "go.sum"].map((f) => `${FRANZ_MODULE}/${f}`),
    toolVersion: ["go", "version"],
    build: (out) =>
      runBuildCommand(
        "go",
        ["build", "-trimpath", "-o", join(out, BINARY), "."],
        join(ROOT, FRANZ_MODULE),
      ),
  });
  return join(dir, BINARY);
}

/** The franz-go version the client's go.mod requires, e.g. `v1.22.3`. */
export async function franzVersion(): Promise<string> {
  const mod = await Deno.readTextFile(join(ROOT, FRANZ_MODULE, "go.mod"));
  return mod.match(/github\.com\/twmb\/franz-go (v\S+)/)?.[1] ?? "unknown";
}

/** The franz-go consumer, polling fetches and handling each record. */
export function franzClient({ brokers }: { brokers: string[] }): Client {
  let binary: string | null = null;
  return {
    label: "B3 go PollFetches",
    family: "B3",
    runtime: "go",
    mode: "poll",
    async prepare() {
      binary = await ensureFranzBinary();
    },
    async run(topic, group) {
      binary ??= await ensureFranzBinary();
      return await measureProtocolClient(
        binary,
        [brokers.join(","), topic.topic, group, String(topic.count), "poll"],
        topic,
      );
    },
  };
}

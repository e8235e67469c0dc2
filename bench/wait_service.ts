/**
 * The slow-handler section's downstream service: a small Go program
 * (bench/clients/wait_server/, standard library only) built with the
 * machine's Go into `.cache/bench/`, that answers each request line `20\n`
 * on a TCP connection with `\n` 20 ms later. Both consumerd's handler and the
 * Parallel Consumer's call it over one connection per call in flight, so both
 * wait on the same I/O instead of on their runtime's timers (a 20 ms
 * setTimeout lasts 21.3 ms on Deno; Java's Thread.sleep has no such floor).
 *
 * @module
 */
import { join } from "node:path";
import { cachedBuild, runBuildCommand } from "./build_cache.ts";
import { MeasuredProcess } from "./child.ts";
import { ROOT } from "./runtimes.ts";

/** The Go module of the wait service, relative to the repository root. */
export const WAIT_SERVER_MODULE = "bench/clients/wait_server";

const BINARY = "wait-server";

/** Builds the wait service unless the cache holds it; returns the binary's path. */
export async function ensureWaitServer(): Promise<string> {
  const dir = await cachedBuild({
    name: BINARY,
    sources: ["main.go", "go.mod"].map((f) => `${WAIT_SERVER_MODULE}/${f}`),
    toolVersion: ["go", "version"],
    build: (out) =>
      runBuildCommand(
        "go",
        ["build", "-trimpath", "-o", join(out, BINARY), "."],
        join(ROOT, WAIT_SERVER_MODULE),
      ),
  });
  return join(dir, BINARY);
}

/**
 * The port in the service's first line, `listening <port>`.
 *
 * @example
 * ```ts
 * listeningPort("listening 40123"); // 40123
 * listeningPort("wait-server: address in use"); // null
 * ```
 */
export function listeningPort(line: string): number | null {
  const match = /^listening (\d+)$/.exec(line.trim());
  if (match === null) return null;
  const port = Number(match[1]);
  return port > 0 && port < 65_536 ? port : null;
}

/** A running wait service. */
export interface WaitService {
  /** Its TCP port on 127.0.0.1. */
  port: number;
  /** Stops it (closes its stdin, then kills it if it lingers). */
  close(): Promise<void>;
}

/** Builds (once) and starts the wait service; resolves once it listens. */
export async function startWaitService(): Promise<WaitService> {
  const binary = await ensureWaitServer();
  const child = new MeasuredProcess(binary, [], { stdin: true });
  try {
    const line = await child.waitForLine((l, stream) => stream === "stdout" && l !== "", {
      timeoutMs: 10_000,
      what: "`listening <port>`",
    });
    const port = listeningPort(line);
    if (port === null) throw new Error(`wait-server: expected \`listening <port>\`, got ${line}`);
    return {
      port,
      close: async () => {
        await child.closeStdin();
        await child.stop(2_000);
      },
    };
  } catch (error) {
    child.kill("SIGKILL");
    await child.stop(0);
    throw error;
  }
}

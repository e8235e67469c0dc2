/**
 * Runs the daemon as a separate process (as users run it) and reads its
 * JSON log lines.
 *
 * @module
 */
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { stringify } from "yaml";
import { DAEMON_DENO_FLAGS } from "../../src/runtime/deno.ts";
import type { Runtime } from "../../src/runtime/types.ts";
import { BROKERS } from "./kafka.ts";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

/** One JSON log record. */
export type LogRecord = Record<string, unknown> & { msg: string; level: string };

/** A running daemon process. */
export class DaemonProcess {
  readonly records: LogRecord[] = [];
  readonly stderr: string[] = [];
  #child: Deno.ChildProcess;
  #done: Promise<Deno.CommandStatus>;
  #reading: Promise<void>;
  #exited = false;

  constructor(child: Deno.ChildProcess) {
    this.#child = child;
    this.#done = child.status;
    this.#done.then(() => (this.#exited = true));
    this.#reading = this.#read();
  }

  async #read(): Promise<void> {
    const lines = this.#child.stderr.pipeThrough(new TextDecoderStream());
    let buffer = "";
    for await (const chunk of lines) {
      buffer += chunk;
      let nl: number;
      while ((nl = buffer.indexOf("\n")) >= 0) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        this.stderr.push(line);
        if (Deno.env.get("DAEMON_LOG")) console.error(`[daemon] ${line}`);
        try {
          this.records.push(JSON.parse(line));
        } catch { /* not JSON: kept in stderr */ }
      }
    }
  }

  /** Records with this `msg`. */
  logged(msg: string): LogRecord[] {
    return this.records.filter((r) => r.msg === msg);
  }

  /** Waits for a record with this `msg` (and matching `where`), and returns it. */
  async waitForLog(
    msg: string,
    { where = () => true, timeoutMs = 30_000 }: {
      where?: (r: LogRecord) => boolean;
      timeoutMs?: number;
    } = {},
  ): Promise<LogRecord> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const found = this.records.find((r) => r.msg === msg && where(r));
      if (found) return found;
      if (this.#exited) {
        throw new Error(
          `The daemon exited before logging "${msg}":\n${this.stderr.slice(-20).join("\n")}`,
        );
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(
      `Timed out after ${timeoutMs} ms waiting for "${msg}":\n${this.stderr.slice(-20).join("\n")}`,
    );
  }

  /** What the fixture handlers logged as handled: partition, offset and value. */
  handled(): Array<{ partition: number; offset: string; value: string; replica: number }> {
    return this.logged("handled").map((r) => ({
      partition: r.partition as number,
      offset: r.offset as string,
      value: r.value as string,
      replica: r.replica as number,
    }));
  }

  /** Sends SIGTERM and returns the exit code. */
  async stop(): Promise<number> {
    this.kill("SIGTERM");
    return await this.exited();
  }

  /** Sends a signal. */
  kill(signal: Deno.Signal = "SIGTERM"): void {
    if (!this.#exited) this.#child.kill(signal);
  }

  /** Resolves with the exit code once the process ended and its output was read. */
  async exited(): Promise<number> {
    const status = await this.#done;
    await this.#reading;
    return status.code;
  }

  /** The process id. */
  get pid(): number {
    return this.#child.pid;
  }
}

/** Writes a config file into a fresh temporary directory and returns its path. */
export async function writeConfig(config: unknown): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "consumerd-test-" });
  const path = join(dir, "consumers.yaml");
  await Deno.writeTextFile(path, stringify(config));
  return path;
}

/** Writes a config for the test broker (no status server) with these consumers. */
export function writeConsumersConfig(consumers: Array<Record<string, unknown>>): Promise<string> {
  return writeConfig({ kafka: { brokers: BROKERS }, http: { listen: false }, consumers });
}

/** Absolute path of a handler in tests/fixtures/handlers/. */
export function fixtureHandler(name: string): string {
  return join(ROOT, "tests", "fixtures", "handlers", name);
}

/** The Bun binary installed from npm. */
export const BUN = join(ROOT, "node_modules", "bun", "bin", "bun.exe");

/** The runtimes the daemon runs on. */
export type DaemonRuntime = Runtime["name"];

/** Every runtime, for tests that run on each. */
export const RUNTIMES: readonly DaemonRuntime[] = ["deno", "bun"];

/** The command line that runs `main` (a `src/main.ts`) with a config file, on Deno or Bun. */
export function daemonCommand(
  main: string,
  configPath: string,
  runtime: DaemonRuntime,
): [string, string[]] {
  return runtime === "bun" ? [BUN, [main, "run", "--config", configPath]] : [Deno.execPath(), [
    "run",
    "-A",
    ...DAEMON_DENO_FLAGS,
    main,
    "run",
    "--config",
    configPath,
  ]];
}

/** Starts `src/main.ts run` with the given config file, on Deno (default) or Bun. */
export function startDaemon(
  configPath: string,
  { env = {}, runtime = "deno" }: { env?: Record<string, string>; runtime?: DaemonRuntime } = {},
): DaemonProcess {
  const [command, args] = daemonCommand(join(ROOT, "src", "main.ts"), configPath, runtime);
  return spawnDaemon(command, args, { cwd: ROOT, env });
}

/**
 * Starts any command line that runs the daemon (a compiled binary, the
 * image's `CMD`), with stderr read as JSON log lines.
 */
export function spawnDaemon(
  command: string,
  args: string[],
  { cwd, env = {}, clearEnv = false }: {
    cwd: string;
    env?: Record<string, string>;
    clearEnv?: boolean;
  },
): DaemonProcess {
  const child = new Deno.Command(command, {
    args,
    cwd,
    env,
    clearEnv,
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  return new DaemonProcess(child);
}

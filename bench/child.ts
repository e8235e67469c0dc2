/**
 * A measured child process: its output read line by line, with waits for
 * the lines that mark the measurement window.
 *
 * @module
 */

/** Which output stream a line came from. */
export type Stream = "stdout" | "stderr";

/** How to start a {@linkcode MeasuredProcess}. */
export interface SpawnOptions {
  cwd?: string;
  env?: Record<string, string>;
  /** Keep stdin open (piped) so that closing it can ask the process to stop. */
  stdin?: boolean;
}

interface Waiter {
  match: (line: string, stream: Stream) => boolean;
  resolve: (line: string) => void;
}

/** How many lines of output are kept for error messages. */
const TAIL = 40;

/** A running child process whose output lines can be awaited. */
export class MeasuredProcess {
  readonly pid: number;
  readonly command: string;
  /** The last lines of output, for error messages. */
  readonly tail: string[] = [];
  #child: Deno.ChildProcess;
  #waiters = new Set<Waiter>();
  #exited = false;
  #status: Promise<Deno.CommandStatus>;
  #reading: Promise<void>;
  #onExit = new Set<() => void>();

  constructor(command: string, args: string[], options: SpawnOptions = {}) {
    this.command = [command, ...args].join(" ");
    this.#child = new Deno.Command(command, {
      args,
      ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
      ...(options.env === undefined ? {} : { env: options.env }),
      stdin: options.stdin ? "piped" : "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    this.pid = this.#child.pid;
    this.#status = this.#child.status.then((status) => {
      this.#exited = true;
      for (const notify of this.#onExit) notify();
      return status;
    });
    this.#reading = Promise.all([
      this.#read(this.#child.stdout, "stdout"),
      this.#read(this.#child.stderr, "stderr"),
    ]).then(() => {});
  }

  async #read(stream: ReadableStream<Uint8Array>, name: Stream): Promise<void> {
    let buffer = "";
    for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
      buffer += chunk;
      let nl: number;
      while ((nl = buffer.indexOf("\n")) >= 0) {
        this.#line(buffer.slice(0, nl), name);
        buffer = buffer.slice(nl + 1);
      }
    }
    if (buffer !== "") this.#line(buffer, name);
  }

  #line(line: string, stream: Stream): void {
    this.tail.push(line);
    if (this.tail.length > TAIL) this.tail.shift();
    for (const waiter of this.#waiters) {
      if (waiter.match(line, stream)) {
        this.#waiters.delete(waiter);
        waiter.resolve(line);
      }
    }
  }

  /**
   * Resolves with the first line from now on that `match` accepts. Rejects
   * when the process exits first or after `timeoutMs`.
   */
  waitForLine(
    match: (line: string, stream: Stream) => boolean,
    { timeoutMs, what }: { timeoutMs: number; what: string },
  ): Promise<string> {
    return new Promise((resolve, reject) => {
      const fail = (why: string) => {
        this.#waiters.delete(waiter);
        this.#onExit.delete(onExit);
        clearTimeout(timer);
        reject(
          new Error(`${why} waiting for ${what} from ${this.command}:\n${this.tail.join("\n")}`),
        );
      };
      const onExit = () => fail("The process exited");
      const timer = setTimeout(() => fail(`Timed out after ${timeoutMs} ms`), timeoutMs);
      const waiter: Waiter = {
        match,
        resolve: (line) => {
          this.#onExit.delete(onExit);
          clearTimeout(timer);
          resolve(line);
        },
      };
      if (this.#exited) return onExit();
      this.#waiters.add(waiter);
      this.#onExit.add(onExit);
    });
  }

  /** Closes the process's stdin (when it was opened with `stdin: true`). */
  async closeStdin(): Promise<void> {
    await this.#child.stdin.close().catch(() => {});
  }

  /** Sends a signal unless the process already exited. */
  kill(signal: Deno.Signal = "SIGTERM"): void {
    if (this.#exited) return;
    try {
      this.#child.kill(signal);
    } catch { /* exited meanwhile */ }
  }

  /**
   * Waits up to `graceMs` for the process to exit, then kills it; resolves
   * with its exit code once its output was read.
   */
  async stop(graceMs: number): Promise<number> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<void>((resolve) => (timer = setTimeout(resolve, graceMs)));
    await Promise.race([this.#status, late]);
    clearTimeout(timer);
    this.kill("SIGKILL");
    const status = await this.#status;
    await this.#reading;
    return status.code;
  }
}

/** Parses a line as a JSON object, or returns null. */
export function jsonLine(line: string): Record<string, unknown> | null {
  if (!line.startsWith("{")) return null;
  try {
    const value: unknown = JSON.parse(line);
    return typeof value === "object" && value !== null ? value as Record<string, unknown> : null;
  } catch {
    return null;
  }
}

/**
 * What differs between Deno and Bun, behind one shape.
 *
 * @module
 */

/** What a worker may touch (Deno permission names); ignored where not enforced. */
export interface WorkerPermissions {
  net: string[];
  read: string[];
  write: string[];
  env: string[];
}

/** Process signals the daemon reacts to. */
export type DaemonSignal = "SIGINT" | "SIGTERM" | "SIGHUP";

/** The runtime adapter. */
export interface Runtime {
  name: "deno" | "bun";
  /** Whether worker permissions are enforced (Deno with --unstable-worker-options). */
  sandbox: boolean;
  spawnWorker(url: URL, options: { name: string; permissions: WorkerPermissions }): Worker;
  /** Adds a signal listener; returns a function that removes it. */
  onSignal(signal: DaemonSignal, listener: () => void): () => void;
  exit(code: number): never;
  env(name: string): string | undefined;
  args(): string[];
}

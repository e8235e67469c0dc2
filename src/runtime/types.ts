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
  /**
   * Watches directories, not recursively: `listener` gets the path of each
   * entry created, changed, renamed or removed in them (a rename or a
   * symlink swap shows as a change of the entry's name). Returns a function
   * that stops watching. Directories that do not exist are skipped.
   */
  watchDirectories(dirs: readonly string[], listener: (path: string) => void): () => void;
  exit(code: number): never;
  env(name: string): string | undefined;
  args(): string[];
}

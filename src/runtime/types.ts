/**
 * What differs between Deno and Bun, behind one shape.
 *
 * @module
 */

import type { WatchOptions } from "./watch.ts";

export type { WatchOptions };

/** What a worker may touch (Deno permission names); ignored where not enforced. */
export interface WorkerPermissions {
  net: string[];
  read: string[];
  write: string[];
  env: string[];
}

/** Process signals the daemon reacts to. */
export type DaemonSignal = "SIGINT" | "SIGTERM" | "SIGHUP";

/** Options of {@linkcode Runtime.serve}. */
export interface ServeOptions {
  hostname: string;
  /** 0 picks a free port. */
  port: number;
  handler: (request: Request) => Promise<Response>;
  /** Largest request body the server itself accepts, bytes (the handler checks too). */
  maxBodyBytes: number;
}

/** A listening HTTP server. */
export interface HttpServer {
  /** The port it listens on (the chosen one when 0 was asked for). */
  port: number;
  /** Stops listening and closes idle connections. */
  close(): Promise<void>;
}

/** The runtime adapter. */
export interface Runtime {
  name: "deno" | "bun";
  /** Whether worker permissions are enforced (Deno with --unstable-worker-options). */
  sandbox: boolean;
  spawnWorker(url: URL, options: { name: string; permissions: WorkerPermissions }): Worker;
  /** Adds a signal listener; returns a function that removes it. */
  onSignal(signal: DaemonSignal, listener: () => void): () => void;
  /** Serves HTTP with a Web-standard handler (`Deno.serve`, `Bun.serve`); throws if it cannot listen. */
  serve(options: ServeOptions): HttpServer;
  /**
   * Watches directories, not recursively: `listener` gets the path of each
   * entry created, changed, renamed or removed in them (a rename or a
   * symlink swap shows as a change of the entry's name). A directory that
   * is replaced, removed, or missing at first is watched again once it
   * exists (`options.onLost`, `options.onRearmed` report it). Returns a
   * function that stops watching.
   */
  watchDirectories(
    dirs: readonly string[],
    listener: (path: string) => void,
    options?: WatchOptions,
  ): () => void;
  exit(code: number): never;
  env(name: string): string | undefined;
  args(): string[];
}

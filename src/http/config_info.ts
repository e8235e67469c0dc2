/**
 * What the status server says about the configuration: its file, revision,
 * the outcome of the last reload, and the fingerprints `check --diff` uses.
 *
 * @module
 */

/** The outcome of the last reload. */
export interface ReloadOutcome {
  ok: boolean;
  /** ISO time. */
  at: string;
  /** What asked for it (`file`, `SIGHUP`, `http`, …). */
  trigger?: string;
  /** Why it failed (empty when ok): config issues with file, line, column, path and message. */
  errors: ReadonlyArray<{ message: string } | string>;
}

/** The configuration as status reports it. */
export interface ConfigInfo {
  path: string;
  /** 1 for the config the daemon started with, +1 per reload that changed something. */
  revision: number;
  /** Null until the first reload (the config the daemon started with loaded fine). */
  lastReload: ReloadOutcome | null;
  /** Fingerprints of `kafka:` and `http:`, for `check --diff`. */
  fingerprints?: { kafka: string; http: string };
}

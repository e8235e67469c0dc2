/**
 * What the status server says about the configuration: its file, revision
 * and the outcome of the last (re)load.
 *
 * @module
 */

/** The outcome of the last load or reload. */
export interface ReloadOutcome {
  ok: boolean;
  /** ISO time. */
  at: string;
  /** Why it failed, one line each (empty when ok). */
  errors: string[];
}

/** The configuration as status reports it. */
export interface ConfigInfo {
  path: string;
  /** 1 for the config the daemon started with, +1 per applied reload. */
  revision: number;
  lastReload: ReloadOutcome | null;
}

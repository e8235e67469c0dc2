/**
 * Auto commits that do not hold up the fetch loop: after each batch the
 * session asks for a commit of what finished; one commit runs at a time, and
 * every request made while it runs is folded into one more commit after it.
 * Awaiting each commit instead cost a broker round trip (7–22 ms locally)
 * per partition per fetch, most of a round on 1 KiB records.
 *
 * What a commit covers is read when it starts, so a later commit always
 * carries the latest finished offsets; a drain or a rebalance still awaits
 * its own final commit, which the session chains after the one running.
 *
 * A commit that failed is tried again after `retryMs` even when no batch
 * asks for one: a partition that went idle would otherwise keep its
 * committed offset behind what was handled for as long as it stays idle.
 *
 * @module
 */

/** Options for {@linkcode BackgroundCommits}. */
export interface BackgroundCommitsOptions {
  /** Commits every finished offset; rejects when it could not. */
  commit: () => Promise<void>;
  /** Whether requests are honoured now (auto mode, not stopping or revoking). */
  enabled: () => boolean;
  /**
   * A commit failed: return true to commit again (after `retryMs`, or at
   * the next request if one comes first), false when trying again is
   * pointless (the session reports the error instead).
   */
  onError: (error: unknown) => boolean;
  /** How soon a failed commit is tried again when no request comes first. */
  retryMs: number;
}

/**
 * Runs commits in the background, one at a time, coalescing requests, and
 * tries a failed one again after `retryMs`.
 *
 * @example
 * ```ts ignore
 * const commits = new BackgroundCommits({
 *   commit: () => session.commitResolved(),
 *   enabled: () => true,
 *   onError: (error) => (log.warn("commit failed", error), true),
 *   retryMs: 5000,
 * });
 * commits.request(); // returns at once
 * await commits.idle();
 * commits.stop(); // no retry timer left behind
 * ```
 */
export class BackgroundCommits {
  readonly #options: BackgroundCommitsOptions;
  /** Whether a run is under way: requests fold into it. */
  #active = false;
  /** The last run, until it settled (what `idle()` waits for). */
  #running: Promise<void> | null = null;
  #again = false;
  #retry: ReturnType<typeof setTimeout> | null = null;

  constructor(options: BackgroundCommitsOptions) {
    if (!(options.retryMs >= 0)) {
      throw new RangeError(
        `Cannot run background commits as 'retryMs' must be non-negative: current value is ${options.retryMs}`,
      );
    }
    this.#options = options;
  }

  /** Asks for a commit of what finished; does not wait for it. */
  request(): void {
    if (!this.#options.enabled()) return;
    this.#clearRetry();
    if (this.#active) {
      this.#again = true;
      return;
    }
    this.#active = true;
    const run = this.#run();
    this.#running = run;
    void run.finally(() => {
      if (this.#running === run) this.#running = null;
    });
  }

  /**
   * Asks for a commit `retryMs` from now, unless one is already due: for a
   * session whose client commits after each batch by itself, to catch up
   * when that commit failed (its `commit` then commits only what is behind).
   */
  requestLater(): void {
    if (this.#retry !== null || !this.#options.enabled()) return;
    this.#retry = setTimeout(() => {
      this.#retry = null;
      this.request();
    }, this.#options.retryMs);
  }

  /** Resolves once no commit runs (never rejects); a retry still to come is not waited for. */
  async idle(): Promise<void> {
    while (this.#running !== null) await this.#running;
  }

  /** Drops the retry to come, if any (the session stops). */
  stop(): void {
    this.#clearRetry();
  }

  async #run(): Promise<void> {
    let failed = false;
    try {
      do {
        this.#again = false;
        try {
          await this.#options.commit();
          failed = false;
        } catch (error) {
          failed = this.#options.onError(error);
        }
      } while (this.#again && this.#options.enabled());
    } finally {
      // In the same turn as the last look at `#again`: a request made after that look starts a
      // new run. Cleared a turn later (a `finally()` on the run's promise), a request made in
      // between would fold into a run that has ended, and be lost.
      this.#active = false;
    }
    if (failed) this.requestLater();
  }

  #clearRetry(): void {
    if (this.#retry === null) return;
    clearTimeout(this.#retry);
    this.#retry = null;
  }
}

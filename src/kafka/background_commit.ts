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
 * @module
 */

/** Options for {@linkcode BackgroundCommits}. */
export interface BackgroundCommitsOptions {
  /** Commits every finished offset; rejects when it could not. */
  commit: () => Promise<void>;
  /** Whether requests are honoured now (auto mode, not stopping or revoking). */
  enabled: () => boolean;
  /** A commit failed: the next request commits again. */
  onError: (error: unknown) => void;
}

/**
 * Runs commits in the background, one at a time, coalescing requests.
 *
 * @example
 * ```ts ignore
 * const commits = new BackgroundCommits({ commit: () => session.commitResolved(), enabled: () => true, onError: log });
 * commits.request(); // returns at once
 * await commits.idle();
 * ```
 */
export class BackgroundCommits {
  readonly #options: BackgroundCommitsOptions;
  #running: Promise<void> | null = null;
  #again = false;

  constructor(options: BackgroundCommitsOptions) {
    this.#options = options;
  }

  /** Asks for a commit of what finished; does not wait for it. */
  request(): void {
    if (!this.#options.enabled()) return;
    if (this.#running !== null) {
      this.#again = true;
      return;
    }
    this.#running = this.#run().finally(() => (this.#running = null));
  }

  /** Resolves once no commit runs (never rejects). */
  async idle(): Promise<void> {
    while (this.#running !== null) await this.#running;
  }

  async #run(): Promise<void> {
    do {
      this.#again = false;
      try {
        await this.#options.commit();
      } catch (error) {
        this.#options.onError(error);
      }
    } while (this.#again && this.#options.enabled());
  }
}

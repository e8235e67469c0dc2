/**
 * The part of a worker that `ordering: key` and `none` add to its loop:
 * the dispatcher that runs the calls, commits that carry the finished
 * offsets beyond the commit point in their metadata (and what a start
 * skips because of them), the commit interval the session no longer keeps,
 * and the `dispatch` report. The loop holds one when the consumer's
 * ordering is not `partition` and calls it at the points it marks.
 *
 * @module
 */
import type { ConsumerConfig } from "../config/types.ts";
import type { FetchedBatch, PartitionOffset } from "../kafka/session.ts";
import { MetadataTooLargeError } from "../kafka/commit_rejected.ts";
import { errorFields } from "../log.ts";
import type { Logger } from "../log.ts";
import type { CommitTracker } from "../offsets/commit_tracker.ts";
import type { FinishedOffsets } from "../offsets/commit_metadata.ts";
import type { DispatchState, PartitionStart } from "../protocol.ts";
import type { ResumedMetadata } from "./assignment.ts";
import { tickMs } from "./commit_policy.ts";
import { DispatchReport } from "./dispatch_report.ts";
import { Dispatcher, type DispatcherOptions } from "./dispatcher.ts";
import { MetadataCommits } from "./metadata_commits.ts";
import type { StatsCounter } from "./stats.ts";

/** What {@linkcode KeyedWork} needs from its worker. */
export interface KeyedWorkOptions
  extends Omit<DispatcherOptions, "ordering" | "concurrency" | "maxBuffered" | "retry"> {
  consumer: Pick<
    ConsumerConfig,
    "ordering" | "concurrency" | "maxBuffered" | "retry" | "commit"
  >;
  tracker: CommitTracker;
  log: Logger;
  stats: StatsCounter;
}

/**
 * `ordering: key` and `none` for one worker loop.
 *
 * @example
 * ```ts ignore
 * const keyed = new KeyedWork({ consumer, tracker, log, stats, handle, ctx, signal, ... });
 * keyed.commitEvery(() => commitFinished()); // auto mode
 * await keyed.onBatch(batch);
 * ```
 */
export class KeyedWork {
  readonly dispatcher: Dispatcher;
  readonly #commits = new MetadataCommits();
  readonly #report = new DispatchReport();
  readonly #options: KeyedWorkOptions;
  #timer: ReturnType<typeof setInterval> | null = null;

  constructor(options: KeyedWorkOptions) {
    const { consumer, ...rest } = options;
    this.#options = options;
    this.dispatcher = new Dispatcher({
      ...rest,
      ordering: consumer.ordering === "none" ? "none" : "key",
      concurrency: consumer.concurrency,
      maxBuffered: consumer.maxBuffered,
      retry: consumer.retry,
    });
  }

  /** Commits with `commit` every `commit.intervalMs` (auto mode: the session does not). */
  commitEvery(commit: () => void, due: () => boolean): void {
    this.#timer = setInterval(() => {
      if (due()) commit();
    }, tickMs(this.#options.consumer.commit));
  }

  /** Stops the timers. */
  close(): void {
    if (this.#timer !== null) clearInterval(this.#timer);
    this.#timer = null;
    this.dispatcher.close();
  }

  /**
   * Commits what is due for `partitions` with `commit`, each offset with
   * the finished offsets beyond it in its metadata; resolves with what was
   * committed. Metadata the broker refuses as too long is shortened until
   * it fits (down to none): the offsets are committed all the same.
   */
  async commitDue(
    partitions: readonly number[],
    commit: (offsets: PartitionOffset[]) => Promise<void>,
  ): Promise<PartitionOffset[]> {
    for (;;) {
      const { offsets, dropped } = this.#commits.due(this.#options.tracker, partitions);
      if (offsets.length === 0) return offsets;
      try {
        await commit(offsets);
      } catch (error) {
        if (!(error instanceof MetadataTooLargeError) || !this.#commits.shrink()) throw error;
        this.#options.log.warn("commit metadata too long for the broker; writing shorter", {
          limit: this.#commits.limit,
          ...errorFields(error),
        });
        continue;
      }
      if (dropped > 0) this.#options.stats.metadataDropped(dropped); // stats
      this.#commits.committed(offsets);
      return offsets;
    }
  }

  /**
   * Partitions now read from `starts` in assignment `generation`; those that
   * resume from a commit whose metadata lists finished offsets skip them.
   */
  started(generation: number, starts: readonly PartitionStart[], resumed: ResumedMetadata[]) {
    for (const s of starts) {
      const metadata = resumed.find((r) => r.partition === s.partition);
      this.dispatcher.assign(s.partition, generation, this.#usable(metadata));
      this.#commits.started(
        s.partition,
        s.offset,
        metadata?.decoded.kind === "finished" ? metadata.metadata : null,
      );
    }
  }

  /** Forgets partitions at once (a new assignment, or an offset out of range). */
  forget(partitions: readonly number[]): void {
    this.dispatcher.forget(partitions);
    this.#commits.forget(partitions);
  }

  /** A partition moved to autoOffsetReset while read: queued messages of it are dropped. */
  reset(partition: number, generation: number): void {
    this.dispatcher.assign(partition, generation, null);
    this.#commits.forget([partition]);
  }

  /** The `dispatch` report when it changed since the last, else null. */
  report(): DispatchState | null {
    return this.#report.take(this.dispatcher);
  }

  /** Queues a batch (see {@linkcode Dispatcher.onBatch}). */
  onBatch(batch: FetchedBatch): Promise<void> {
    return this.dispatcher.onBatch(batch);
  }

  /** What a resumed partition's commit lists as finished, logged; null when none is usable. */
  #usable(resumed: ResumedMetadata | undefined): FinishedOffsets | null {
    if (resumed === undefined) return null;
    const { log } = this.#options;
    const { partition, decoded } = resumed;
    if (decoded.kind === "finished") {
      log.info("skipping messages finished before the last commit", {
        partition,
        messages: decoded.finished.size,
      });
      return decoded.finished;
    }
    if (decoded.kind === "stale") {
      log.info("commit metadata written for another offset; not used", {
        partition,
        writtenFor: decoded.writtenFor,
      });
    } else if (decoded.kind === "malformed") {
      log.warn("commit metadata unreadable; not used", { partition, reason: decoded.reason });
    }
    return null;
  }
}

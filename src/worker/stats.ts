/**
 * The worker's cumulative counters for metrics: messages processed, handler
 * errors and retries, rebalances, a handler-duration histogram, records
 * produced per topic and exactly-once transactions. The loop
 * calls it at a few marked points (`// stats:`) and posts its snapshot with
 * the offsets report.
 *
 * @module
 */
import {
  HANDLER_DURATION_BUCKETS,
  type TopicProduced,
  TRANSACTION_DURATION_BUCKETS,
  type WorkerStats,
} from "../protocol.ts";

/**
 * Counts what the metrics need; {@linkcode take} returns a snapshot when
 * something changed since the last one.
 *
 * @example
 * ```ts
 * const stats = new StatsCounter();
 * const t0 = performance.now();
 * handle(message);
 * stats.handled(1, performance.now() - t0);
 * const snapshot = stats.take(); // WorkerStats | null
 * ```
 */
export class StatsCounter {
  #processed = 0;
  #handlerErrors = 0;
  #retries = 0;
  #rebalances = 0;
  #finishedBefore = 0;
  #metadataDropped = 0;
  #buckets: number[] = new Array(HANDLER_DURATION_BUCKETS.length + 1).fill(0);
  #sum = 0;
  #count = 0;
  #produced = new Map<string, TopicProduced>();
  #committed = 0;
  #aborted = 0;
  #txBuckets: number[] = new Array(TRANSACTION_DURATION_BUCKETS.length + 1).fill(0);
  #txSum = 0;
  #changed = false;

  /** Messages processed so far. */
  get processed(): number {
    return this.#processed;
  }

  /** `messages` finished after one handler call that took `ms`. */
  handled(messages: number, ms: number): void {
    this.#processed += messages;
    this.#buckets[bucketOf(ms, HANDLER_DURATION_BUCKETS)]!++;
    this.#sum += ms / 1000;
    this.#count++;
    this.#changed = true;
  }

  /** One message finished after one call, counted in the first bucket until {@linkcode timedCalls} says otherwise (see `CallTimer`). */
  handledCall(): void {
    this.#processed++;
    this.#buckets[0]!++;
    this.#count++;
    this.#changed = true;
  }

  /**
   * Calls counted by {@linkcode handledCall} took `ms` together; one of
   * them took `slowestMs` and moves to its bucket (0: none moves).
   */
  timedCalls(ms: number, slowestMs: number): void {
    this.#sum += ms / 1000;
    const i = bucketOf(slowestMs, HANDLER_DURATION_BUCKETS);
    if (i > 0) {
      this.#buckets[0]!--;
      this.#buckets[i]!++;
    }
    this.#changed = true;
  }

  /** `messages` finished without their handler succeeding (dead-lettered). */
  skipped(messages: number): void {
    this.#processed += messages;
    this.#changed = true;
  }

  /** A handler call threw. */
  handlerError(): void {
    this.#handlerErrors++;
    this.#changed = true;
  }

  /** A handler call is tried again. */
  retry(): void {
    this.#retries++;
    this.#changed = true;
  }

  /** `messages` were not handled because the commit the partition started from lists them as finished. */
  finishedBefore(messages: number): void {
    this.#finishedBefore += messages;
    this.#changed = true;
  }

  /** A commit's metadata left out `offsets` finished offsets (it would not fit). */
  metadataDropped(offsets: number): void {
    this.#metadataDropped += offsets;
    this.#changed = true;
  }

  /** The broker acknowledged a record of `bytes` (see `recordBytes`) to `topic`. */
  produced(topic: string, bytes: number): void {
    const counts = this.#topic(topic);
    counts.messages++;
    counts.bytes += bytes;
    this.#changed = true;
  }

  /** A record to `topic` failed to be written. */
  produceError(topic: string): void {
    this.#topic(topic).errors++;
    this.#changed = true;
  }

  /** An exactly-once transaction ended (committed, else aborted) after `ms`. */
  transaction(committed: boolean, ms: number): void {
    if (committed) this.#committed++;
    else this.#aborted++;
    this.#txBuckets[bucketOf(ms, TRANSACTION_DURATION_BUCKETS)]!++;
    this.#txSum += ms / 1000;
    this.#changed = true;
  }

  #topic(topic: string): TopicProduced {
    let counts = this.#produced.get(topic);
    if (counts === undefined) {
      this.#produced.set(topic, counts = { messages: 0, bytes: 0, errors: 0 });
    }
    return counts;
  }

  /** An assignment arrived. */
  rebalance(): void {
    this.#rebalances++;
    this.#changed = true;
  }

  /** The counters so far, or null when nothing changed since the last call. */
  take(): WorkerStats | null {
    if (!this.#changed) return null;
    this.#changed = false;
    return this.snapshot();
  }

  /** The counters so far. */
  snapshot(): WorkerStats {
    return {
      processed: this.#processed,
      handlerErrors: this.#handlerErrors,
      retries: this.#retries,
      rebalances: this.#rebalances,
      finishedBefore: this.#finishedBefore,
      metadataDropped: this.#metadataDropped,
      duration: { buckets: [...this.#buckets], sum: this.#sum, count: this.#count },
      produced: Object.fromEntries(
        [...this.#produced].map(([topic, counts]) => [topic, { ...counts }]),
      ),
      transactions: {
        committed: this.#committed,
        aborted: this.#aborted,
        duration: {
          buckets: [...this.#txBuckets],
          sum: this.#txSum,
          count: this.#committed + this.#aborted,
        },
      },
    };
  }
}

/** The index of the bucket of `bounds` (seconds) a duration of `ms` falls in (the last: +Inf). */
function bucketOf(ms: number, bounds: readonly number[]): number {
  const seconds = ms / 1000;
  let i = 0;
  while (i < bounds.length && seconds > bounds[i]!) i++;
  return i;
}

/**
 * Handling one fetched batch of one partition: messages in order, retries,
 * dead letters, pausing the partition when a message cannot be handled, and
 * the membership kept alive while handlers run. One {@linkcode BatchRun} per
 * batch; a worker with `concurrency: N` runs up to N at once, each on its
 * own partition.
 *
 * @module
 */
import { batchMessages, type FetchedBatch } from "../kafka/session.ts";
import type { Handler } from "./handler.ts";
import { HandlerCalls, type HandlerCallsOptions, isThenable } from "./handler_calls.ts";
import { Keepalive } from "./keepalive.ts";
import { CallTimer } from "./call_timer.ts";
import type { TurnPacer } from "./event_loop.ts";
import type { Message } from "../message.ts";
import type { Context } from "./context.ts";
import type { StatsCounter } from "./stats.ts";

/** What a {@linkcode BatchRun} needs from its worker. */
export interface BatchRunOptions {
  handler: Handler;
  ctx: Context;
  retry: HandlerCallsOptions["retry"];
  /** Aborted when the worker stops: no new message starts, and a call that fails then is not a failure. */
  signal: AbortSignal;
  log: HandlerCallsOptions["log"];
  /** How often a long batch hands over finished messages, heartbeats and calls `onTick`. */
  tickMs: number;
  /** How often the membership is kept alive while a handler call runs. */
  keepaliveMs: number;
  /**
   * The worker's pace of event loop turns: the loop turns when one is due
   * after a handler call (about once a second, counted across batches and
   * fetch rounds), so that timers and I/O run however the handler behaves
   * (one that never awaits included), whatever the batch sizes.
   */
  turns: TurnPacer;
  /**
   * Every message of `partition` up to and including `offset` has finished
   * (in order, never twice). Returns false when the batch's assignment
   * `generation` is over: then nothing is handed over, and those messages
   * are handled again by the partition's next holder.
   */
  onFinished(partition: number, offset: string, generation: number): boolean;
  /** Called every `tickMs` of a long batch (the worker commits on its interval there). */
  onTick(): Promise<void>;
  /** Copies `messages` to the dead-letter topic; false when there is none or it failed. */
  deadLetter(messages: Message[], error: unknown): Promise<boolean>;
  /** `message` failed every attempt and was not dead-lettered: pause its partition. */
  failPartition(message: Message, error: unknown): void;
  /** Counts handler calls, their durations, failures and retries for metrics. */
  stats?: StatsCounter;
}

/**
 * One batch of one partition being handled.
 *
 * Finished messages are a prefix of the batch: the run hands the last
 * finished offset over (`onFinished` and the batch's `resolve`) once a
 * tick and at the end, or whenever the worker asks through
 * {@linkcode BatchRun.flush} (before a commit).
 *
 * @example
 * ```ts
 * const run = new BatchRun(batch, options);
 * try { await run.run(); } finally { run.flush(); }
 * ```
 */
export class BatchRun {
  readonly batch: FetchedBatch;
  readonly calls: HandlerCalls;
  readonly #options: BatchRunOptions;
  /** The last finished message's offset not handed over yet. */
  #finished: string | null = null;

  constructor(batch: FetchedBatch, options: BatchRunOptions) {
    this.batch = batch;
    this.#options = options;
    this.calls = new HandlerCalls({
      retry: options.retry,
      signal: options.signal,
      log: options.log,
      active: () => this.#active(),
      ...(options.stats ? { stats: options.stats } : {}),
    });
  }

  /** Hands the finished messages over to the worker and the client. */
  flush(): void {
    const offset = this.#finished;
    if (offset === null) return;
    this.#finished = null;
    if (!this.#options.onFinished(this.batch.partition, offset, this.batch.generation)) return;
    this.batch.resolve(offset);
  }

  /**
   * Handles the batch. Once the group rebalances no new handler call starts;
   * the call in progress finishes (the membership kept alive meanwhile) and
   * what finished is handed over. Rejects with the heartbeat's error when
   * this run saw the rebalance, so that the client rejoins at once.
   */
  async run(): Promise<void> {
    if (!this.#active()) return;
    const keepalive = new Keepalive(() => this.batch.heartbeat(), this.#options.keepaliveMs);
    try {
      if (this.#options.handler.kind === "batch") {
        await this.#runBatch(this.#options.handler.fn);
      } else await this.#runEach(this.#options.handler.fn, keepalive);
    } finally {
      keepalive.stop();
      this.flush();
    }
    if (keepalive.error !== null) throw keepalive.error;
  }

  #active(): boolean {
    return !this.#options.signal.aborted && this.batch.active();
  }

  async #runEach(
    handle: (message: Message, ctx: Context) => unknown,
    keepalive: Keepalive,
  ): Promise<void> {
    const { batch } = this;
    const { ctx, tickMs } = this.#options;
    const { calls } = this;
    const stats = this.#options.stats;
    const call = (message: Message) => handle(message, ctx);
    let tick = Date.now();
    // stats: calls timed in groups while they are fast (the precise clock costs as much as a call).
    const timer = stats ? new CallTimer(stats, tick) : null;
    // Whether the batch was active when last checked and nothing asynchronous ran since: a
    // pause, a rebalance or a stop arrive as events, so between synchronous handler calls the
    // answer cannot change (asking a session per message cost as much as the call itself).
    let checked = false;
    try {
      for (let i = 0; i < batch.size; i++) {
        if (!checked && !this.#active()) return;
        checked = true;
        const message = batch.at(i);
        let error: unknown = null;
        try {
          // Synchronous handlers return no promise: nothing is awaited. An async handler's
          // own promise is awaited, nothing wrapped around it.
          const result = calls.start(call, message);
          if (isThenable(result)) {
            checked = false;
            await result;
          }
          calls.done();
        } catch (thrown) {
          checked = false;
          error = await calls.failed(call, message, message, thrown);
        }
        if (error !== null) {
          const skipped = await this.#giveUp([message], error);
          timer?.restart(Date.now()); // stats: neither a call that failed for good nor dead-lettering is timed
          if (!skipped) return;
          stats?.skipped(1); // stats
        }
        this.#finished = message.offset;
        const now = Date.now();
        if (error === null) timer?.ended(now); // stats
        const ticked = now - tick >= tickMs;
        // The worker's pace of turns runs on across batches and fetch rounds: a round of
        // short batches, none long enough to tick, lets the event loop turn as often.
        if (!ticked && !this.#options.turns.due(now)) continue;
        checked = false;
        timer?.close(now); // stats
        if (ticked) {
          // Once a tick in a long batch: hand over what finished (a rebalance
          // then commits it), keep the membership alive, commit on the interval.
          tick = now;
          this.flush();
          await keepalive.beat();
          await this.#options.onTick();
        }
        // Let the event loop turn when due (heartbeats, the client's timers and I/O).
        await this.#options.turns.turn(now);
        timer?.restart(Date.now()); // stats
      }
    } finally {
      timer?.close(Date.now()); // stats
    }
  }

  /**
   * A batch handler is called with the messages not finished yet. It may
   * `ctx.ack(message)` to finish a message and those before it: when it then
   * throws, the next attempt starts after them, and when attempts are spent
   * only the message it stopped at is dead-lettered. A handler that acks
   * nothing has the batch retried, and dead-lettered, whole.
   */
  async #runBatch(handle: (messages: Message[], ctx: Context) => unknown): Promise<void> {
    const messages = batchMessages(this.batch);
    let done = 0;
    let acked = false;
    let index: Map<Message, number> | null = null;
    const ctx: Context = {
      ...this.#options.ctx,
      ack: (message: Message) => {
        index ??= new Map(messages.map((m, i) => [m, i]));
        const i = index.get(message);
        if (i === undefined) {
          throw new RangeError(
            `Cannot ack offset ${message.offset} of partition ${message.partition}: ` +
              "it is not a message of this batch",
          );
        }
        acked = true;
        if (i < done) return;
        done = i + 1;
        this.#finished = message.offset;
      },
    };
    // A retry gets the messages not finished yet; none left (all acked, then
    // it threw): nothing to call again.
    const call = () => done < messages.length ? handle(messages.slice(done), ctx) : undefined;
    while (done < messages.length) {
      if (!this.#active()) return;
      const before = done; // stats
      const t0 = performance.now(); // stats
      const pending = this.calls.call(call, undefined, messages[done]!);
      const error = pending === null ? null : await pending;
      // stats: messages finished by this call (all of them, or those acked before it threw).
      const handledNow = (error === null ? messages.length : done) - before;
      if (handledNow > 0) this.#options.stats?.handled(handledNow, performance.now() - t0);
      // A synchronous call awaited nothing: let the event loop turn when the worker's pace says.
      const now = Date.now();
      if (this.#options.turns.due(now)) await this.#options.turns.turn(now);
      if (error === null || done === messages.length) {
        done = messages.length;
        this.#finished = messages[done - 1]!.offset;
        return;
      }
      const failed = acked ? messages.slice(done, done + 1) : messages.slice(done);
      if (!await this.#giveUp(failed, error)) return;
      this.#options.stats?.skipped(failed.length); // stats
      done += failed.length;
      this.#finished = messages[done - 1]!.offset;
    }
  }

  /**
   * `messages` failed every attempt. Returns true when they count as
   * finished (dead-lettered); false when the batch must stop here: the
   * worker is stopping (a call failing then, typically on `ctx.signal`, is
   * not the message's fault: it stays unfinished and is handled again), the
   * batch ended (a rebalance cut its retries short), or the partition was
   * paused.
   */
  async #giveUp(messages: Message[], error: unknown): Promise<boolean> {
    // Stopping, or the batch ended (rebalance, seek): not the message's fault.
    if (messages.length === 0 || !this.#active()) return false;
    if (await this.#options.deadLetter(messages, error)) return true;
    this.#options.failPartition(messages[0]!, error);
    return false;
  }
}

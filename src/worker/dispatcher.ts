/**
 * Handling messages with `ordering: key` or `none`: up to `concurrency`
 * handler calls in flight at once, each lane's messages (a key of a
 * partition, or one message) one after the other (see `lanes.ts`).
 *
 * A fetched batch is queued message by message (each begun in the commit
 * tracker, or finished at once when the last commit's metadata lists it)
 * and handed back to the session, which fetches on while the calls run:
 * only the messages that finished count for the commit. Once `maxBuffered`
 * messages wait or run, queueing waits (the membership kept alive) and so
 * does fetching. A call that throws is tried again per `retry` in its lane
 * while other lanes go on; once its attempts are spent it is dead-lettered,
 * or its lane (its key) stays paused and is tried again later — never
 * skipped. Giving partitions back (a rebalance, a stop, an offset out of
 * range) drops what waits; the calls running end on their own, and
 * {@linkcode Dispatcher.revoke} resolves once they did.
 *
 * @module
 */
import type { ConsumerConfig } from "../config/types.ts";
import type { FetchedBatch } from "../kafka/session.ts";
import { errorFields, type Logger } from "../log.ts";
import { detachedMessage, type Message } from "../message.ts";
import type { CommitTracker } from "../offsets/commit_tracker.ts";
import type { FinishedOffsets } from "../offsets/commit_metadata.ts";
import { compareOffsets } from "../offsets/offset.ts";
import type { PausedKey } from "../protocol.ts";
import type { Context } from "./context.ts";
import { asFailure, isThenable, logRetry, retryDelay } from "./handler_calls.ts";
import { Keepalive } from "./keepalive.ts";
import { type Lane, laneKey, Lanes } from "./lanes.ts";
import type { StatsCounter } from "./stats.ts";
import { keyLabel } from "./key_label.ts";
import { Conditions } from "./conditions.ts";

/** How many paused keys a report lists (it counts them all). */
const PAUSED_KEYS_LISTED = 10;
/**
 * How often messages waiting since the last sweep are copied out of their
 * fetch response (see {@linkcode Dispatcher}): a message queued behind a
 * slow key would otherwise keep its whole response in memory.
 */
const DETACH_EVERY_MS = 1000;

/** What a {@linkcode Dispatcher} needs from its worker. */
export interface DispatcherOptions {
  ordering: "key" | "none";
  /** Handler calls in flight at most. */
  concurrency: number;
  /** Messages queued or running at most. */
  maxBuffered: number;
  handle: (message: Message, ctx: Context) => unknown;
  ctx: Context;
  retry: ConsumerConfig["retry"];
  /** Aborted when the worker stops: no call starts, none is tried again. */
  signal: AbortSignal;
  log: Logger;
  /** Begins and finishes messages (the commit point). */
  tracker: CommitTracker;
  /** How often the membership is kept alive while a batch waits for room. */
  keepaliveMs: number;
  /**
   * How long synchronous handler calls may hold the event loop before the
   * dispatcher lets it turn (timers, heartbeats, I/O).
   */
  turnEveryMs: number;
  /** Copies `messages` to the dead-letter topic; false when there is none or it failed. */
  deadLetter(messages: Message[], error: unknown): Promise<boolean>;
  /** `message` failed every attempt and was not dead-lettered: its key is paused. */
  onKeyPaused(message: Message, error: unknown): void;
  stats?: StatsCounter;
}

/** A partition being read: the assignment it belongs to, and what the last commit says finished. */
interface PartitionWork {
  partition: number;
  generation: number;
  /** Offsets listed as finished by the commit the partition started from, until passed. */
  finished: FinishedOffsets | null;
  /** The last offset queued (or skipped as finished), so that a batch fetched twice is queued once. */
  last: string | null;
  /** Being given back: nothing more starts; the calls running still count when they finish. */
  draining: boolean;
}

/** A message waiting or running in a lane, and the reading of its partition it belongs to. */
interface Queued {
  message: Message;
  work: PartitionWork;
  /** Whether `message` owns its bytes (see {@linkcode Dispatcher}'s sweep). */
  detached: boolean;
}

/** A call in flight: a handler call, or the dead-lettering of a message that failed. */
interface Call {
  lane: Lane<Queued>;
  queued: Queued;
  startedAt: number;
  /** `performance.now()` at the start, for the duration histogram. */
  t0: number;
  deadLettering: boolean;
}

/** A lane waiting: for a retry, or paused after its attempts were spent. */
interface Held {
  lane: Lane<Queued>;
  timer: ReturnType<typeof setTimeout>;
  paused: PausedKey | null;
}

/**
 * Runs `ordering: key` and `none` for one worker.
 *
 * @example
 * ```ts ignore
 * const dispatcher = new Dispatcher(options);
 * dispatcher.assign(0, generation, finished); // once the partition's start is committed
 * await dispatcher.onBatch(batch); // queues it; returns before its calls end
 * await dispatcher.revoke([0]); // drops what waits, once the calls running ended
 * ```
 */
export class Dispatcher {
  readonly #options: DispatcherOptions;
  readonly #lanes = new Lanes<Queued>();
  readonly #partitions = new Map<number, PartitionWork>();
  readonly #calls = new Set<Call>();
  readonly #held = new Map<Lane<Queued>, Held>();
  /** Batches waiting for room, and anyone waiting for calls to end: checked at every change. */
  readonly #conditions: Conditions;
  #pumping = false;
  #turnTimer: ReturnType<typeof setTimeout> | null = null;
  #sweepTimer: ReturnType<typeof setInterval> | null = null;
  /** The queue number at the last sweep: messages below it have waited a sweep interval. */
  #swept = 0;

  constructor(options: DispatcherOptions) {
    this.#options = options;
    this.#conditions = new Conditions(options.keepaliveMs);
  }

  /** Stops the dispatcher's timers (the worker stops). */
  close(): void {
    if (this.#sweepTimer !== null) clearInterval(this.#sweepTimer);
    if (this.#turnTimer !== null) clearTimeout(this.#turnTimer);
    this.#sweepTimer = this.#turnTimer = null;
  }

  /** Handler calls in flight (dead-lettering included). */
  get inFlight(): number {
    return this.#calls.size;
  }

  /** Messages queued or running. */
  get buffered(): number {
    return this.#lanes.buffered;
  }

  /**
   * Starts reading `partition` in assignment `generation`; `finished`: what
   * the commit it starts from lists as finished beyond it (those messages
   * are not handled again). Replaces an earlier reading of the partition.
   */
  assign(partition: number, generation: number, finished: FinishedOffsets | null): void {
    this.#forget(partition);
    this.#partitions.set(partition, {
      partition,
      generation,
      finished: finished !== null && finished.size > 0 ? finished : null,
      last: null,
      draining: false,
    });
  }

  /**
   * Queues a batch's messages and moves the batch's fetch position past
   * them; resolves once queued (waiting for room when full), before their
   * calls end. Stops early when the batch stops being active. Rejects with
   * the heartbeat's error when the group rebalanced meanwhile, so that the
   * client rejoins at once.
   */
  async onBatch(batch: FetchedBatch): Promise<void> {
    const work = this.#partitions.get(batch.partition);
    if (work === undefined || work.generation !== batch.generation) return;
    this.#sweepTimer ??= setInterval(() => this.#sweep(), DETACH_EVERY_MS);
    const { tracker, ordering, maxBuffered, keepaliveMs, stats } = this.#options;
    const active = () =>
      !this.#options.signal.aborted && batch.active() && !work.draining &&
      this.#partitions.get(batch.partition) === work;
    let keepalive: Keepalive | null = null;
    let queued: string | null = null;
    try {
      for (let i = 0; i < batch.size; i++) {
        if (this.#lanes.buffered >= maxBuffered) {
          // Full: no more fetching until calls finish; the membership is kept meanwhile. Queueing
          // goes on once a few slots are free, not at each one.
          keepalive ??= new Keepalive(() => batch.heartbeat(), keepaliveMs);
          this.#pump();
          await this.#until(() => this.#lanes.buffered <= this.#refillAt || !active());
        }
        if (!active()) break;
        const message = batch.at(i);
        if (work.last !== null && compareOffsets(message.offset, work.last) <= 0) continue;
        work.last = message.offset; // a batch fetched twice is queued once
        queued = message.offset;
        tracker.begin(message.partition, message.offset);
        if (work.finished !== null) {
          const offset = BigInt(message.offset);
          if (work.finished.has(offset)) {
            tracker.finish(message.partition, message.offset);
            stats?.finishedBefore(1); // stats
            continue;
          }
          if (offset >= work.finished.end!) work.finished = null;
        }
        const key = laneKey(ordering, message.key);
        this.#lanes.push(message.partition, key, { message, work, detached: false });
        if (this.#calls.size < this.#options.concurrency) this.#pump();
      }
    } finally {
      keepalive?.stop();
      if (queued !== null) batch.resolve(queued);
      this.#pump();
    }
    if (keepalive !== null && keepalive.error !== null) throw keepalive.error;
  }

  /**
   * Gives `partitions` back: nothing more of them starts or is tried again,
   * what waits is dropped (it stays unfinished), and the returned promise
   * resolves once their calls in flight ended — those that succeed finish
   * their messages (a commit after this counts them).
   */
  async revoke(partitions: readonly number[]): Promise<void> {
    const draining: PartitionWork[] = [];
    for (const partition of partitions) {
      const work = this.#partitions.get(partition);
      if (work !== undefined) {
        work.draining = true;
        draining.push(work);
      }
      this.#drop(partition);
    }
    const mine = new Set(partitions);
    await this.#until(() => {
      for (const call of this.#calls) if (mine.has(call.queued.message.partition)) return false;
      return true;
    });
    for (const work of draining) {
      if (this.#partitions.get(work.partition) === work) this.#partitions.delete(work.partition);
    }
  }

  /**
   * Forgets `partitions` at once: what waits is dropped, and the calls
   * running no longer count when they end (the tracker forgot them too).
   */
  forget(partitions: readonly number[]): void {
    for (const partition of partitions) this.#forget(partition);
  }

  /** Resolves once no call is in flight. */
  async idle(): Promise<void> {
    await this.#until(() => this.#calls.size === 0);
  }

  /** Makes whoever waits check again (a call ended; a rebalance or a stop began). */
  wake(): void {
    this.#conditions.check();
  }

  /** How long the longest running handler call has run (ms), or null when none runs. */
  busyMs(now: number): number | null {
    let oldest: number | null = null;
    for (const call of this.#calls) {
      if (call.deadLettering) continue;
      if (oldest === null || call.startedAt < oldest) oldest = call.startedAt;
    }
    return oldest === null ? null : now - oldest;
  }

  /** The paused keys: how many, and the first few. */
  pausedKeys(): { count: number; keys: PausedKey[] } {
    const keys: PausedKey[] = [];
    let count = 0;
    for (const { paused } of this.#held.values()) {
      if (paused === null) continue;
      count++;
      if (keys.length < PAUSED_KEYS_LISTED) keys.push(paused);
    }
    return { count, keys };
  }

  /** Forgets a partition's reading: its calls running no longer count, what waits is dropped. */
  #forget(partition: number): void {
    this.#partitions.delete(partition);
    this.#drop(partition);
  }

  /** Drops what waits in a partition's lanes (retries and paused keys included). */
  #drop(partition: number): void {
    for (const [lane, held] of this.#held) {
      if (lane.partition !== partition) continue;
      clearTimeout(held.timer);
      this.#held.delete(lane);
    }
    this.#lanes.drop(partition);
    this.wake();
  }

  /**
   * Copies every message that waited since the last sweep out of its fetch
   * response. Most messages run within a sweep interval and are never
   * copied; one kept longer (behind a slow or paused key) no longer holds
   * the response it came in.
   */
  #sweep(): void {
    const swept = this.#swept;
    this.#swept = this.#lanes.nextSeq;
    this.#lanes.forEachWaiting((queued, seq) => {
      if (seq >= swept || queued.detached) return;
      queued.message = detachedMessage(queued.message);
      queued.detached = true;
    });
  }

  /** A full buffer takes messages again once it is down to this many. */
  get #refillAt(): number {
    const { maxBuffered, concurrency } = this.#options;
    return maxBuffered - Math.max(1, Math.min(concurrency, Math.floor(maxBuffered / 4)));
  }

  #until(done: () => boolean): Promise<void> {
    return this.#conditions.until(done);
  }

  /**
   * Starts calls while there are free slots and ready lanes. Synchronous
   * handlers finish inside the loop; past `turnEveryMs` of them the rest
   * waits for the next event loop turn.
   */
  #pump(): void {
    if (this.#pumping || this.#turnTimer !== null) return;
    this.#pumping = true;
    const { concurrency, signal, turnEveryMs } = this.#options;
    const since = Date.now();
    try {
      while (this.#calls.size < concurrency && !signal.aborted) {
        const lane = this.#lanes.take();
        if (lane === null) break;
        this.#start(lane);
        if (Date.now() - since >= turnEveryMs) {
          this.#turnTimer = setTimeout(() => {
            this.#turnTimer = null;
            this.#pump();
          }, 0);
          break;
        }
      }
    } finally {
      this.#pumping = false;
    }
  }

  #start(lane: Lane<Queued>): void {
    const queued = lane.first;
    const call: Call = {
      lane,
      queued,
      startedAt: Date.now(),
      t0: performance.now(),
      deadLettering: false,
    };
    this.#calls.add(call);
    let result: unknown;
    try {
      result = this.#options.handle(queued.message, this.#options.ctx);
    } catch (error) {
      this.#failed(call, error);
      return;
    }
    if (!isThenable(result)) {
      this.#succeeded(call);
      return;
    }
    Promise.resolve(result).then(
      () => {
        this.#succeeded(call);
        this.#pump();
      },
      (error: unknown) => {
        this.#failed(call, error);
        this.#pump();
      },
    );
  }

  /** Whether `queued` still belongs to its partition's current reading (its finish counts). */
  #current(queued: Queued): boolean {
    return this.#partitions.get(queued.message.partition) === queued.work;
  }

  /** Whether `queued` may be tried again or dead-lettered: current, and not being given back. */
  #live(queued: Queued): boolean {
    return this.#current(queued) && !queued.work.draining;
  }

  #succeeded(call: Call): void {
    this.#options.stats?.handled(1, performance.now() - call.t0); // stats
    this.#calls.delete(call);
    this.#finish(call.lane, call.queued);
  }

  /** A lane's first message finished (handled, or dead-lettered): the lane moves on. */
  #finish(lane: Lane<Queued>, queued: Queued): void {
    const { message } = queued;
    if (this.#current(queued)) this.#options.tracker.finish(message.partition, message.offset);
    this.#lanes.advance(lane);
    this.wake();
  }

  #failed(call: Call, thrown: unknown): void {
    const { log, retry, signal, stats } = this.#options;
    const { lane, queued } = call;
    const error = asFailure(thrown);
    stats?.handlerError(); // stats
    this.#calls.delete(call);
    this.wake();
    if (!this.#live(queued)) {
      // Its partition is given back (a rebalance cut its retries short, or a stop): the message
      // stays unfinished, handled again by whoever reads it next; a message of the same key
      // queued since may run.
      this.#lanes.advance(lane);
      return;
    }
    // Stopping (a call that fails then, typically on ctx.signal, is not the message's fault):
    // it stays unfinished, and nothing more of its key runs.
    this.#lanes.hold(lane);
    if (signal.aborted) return;
    lane.failures++;
    const delay = retryDelay(retry, lane.failures);
    if (delay !== null) {
      logRetry(log, queued.message, lane.failures, delay, error);
      this.#holdFor(lane, delay, null, () => stats?.retry()); // stats
      return;
    }
    void this.#giveUp(lane, queued, error);
  }

  /** Every attempt failed: dead-letter the message, or pause its key and try it again later. */
  async #giveUp(lane: Lane<Queued>, queued: Queued, error: unknown): Promise<void> {
    const { log, retry, deadLetter, onKeyPaused } = this.#options;
    const { message } = queued;
    // The lane is held meanwhile; the dead-lettering counts as in flight (a drain waits for it).
    const call: Call = { lane, queued, startedAt: Date.now(), t0: 0, deadLettering: true };
    this.#calls.add(call);
    let deadLettered = false;
    try {
      deadLettered = this.#live(queued) && await deadLetter([message], error);
    } finally {
      this.#calls.delete(call);
    }
    if (!deadLettered && !this.#live(queued)) {
      this.#lanes.advance(lane);
      this.wake();
      return;
    }
    if (deadLettered) {
      this.#options.stats?.skipped(1); // stats
      this.#finish(lane, queued);
      this.#pump();
      return;
    }
    const paused: PausedKey = {
      partition: message.partition,
      key: keyLabel(message.key),
      offset: message.offset,
      reason: `handler failed after retries: ${error instanceof Error ? error.message : error}`,
    };
    log.error("handler failed after retries; key paused", {
      partition: message.partition,
      offset: message.offset,
      key: paused.key,
      retryInMs: retry.maxBackoffMs,
      ...errorFields(error),
    });
    onKeyPaused(message, error);
    lane.failures = 0;
    this.#holdFor(lane, retry.maxBackoffMs, paused, () => {});
    this.wake();
  }

  /** Holds `lane` for `ms`, then lets it run its message again. */
  #holdFor(lane: Lane<Queued>, ms: number, paused: PausedKey | null, onRelease: () => void): void {
    const timer = setTimeout(() => {
      if (this.#held.get(lane)?.timer !== timer) return;
      this.#held.delete(lane);
      if (this.#options.signal.aborted || lane.state !== "held") return;
      onRelease();
      this.#lanes.release(lane);
      this.#pump();
    }, ms);
    this.#held.set(lane, { lane, timer, paused });
  }
}

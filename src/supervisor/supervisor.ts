/**
 * The supervisor: one worker per consumer replica, a periodic control pass
 * that restarts dead or hung workers with backoff, and a graceful drain.
 *
 * @module
 */
import { basename } from "node:path";
import type { Config, ConsumerConfig, HttpConfig, KafkaConfig } from "../config/types.ts";
import { errorFields, type Logger } from "../log.ts";
import { evictGroupMember } from "../kafka/evict.ts";
import {
  HANDLER_DURATION_BUCKETS,
  PROTOCOL_VERSION,
  type StartReason,
  type WorkerMessage,
  type WorkerStats,
} from "../protocol.ts";
import type { Runtime } from "../runtime/types.ts";
import { backoffDelay } from "../backoff.ts";
import { type ConfigDiff, isReconnect } from "./config_diff.ts";
import {
  controlPass,
  type ControlPolicy,
  type SlotView,
  type Stall,
  stallOf,
} from "./control_pass.ts";
import { PACKAGE_LOCATION } from "./package_location.ts";
import { workerPermissions } from "./permissions.ts";
import { type PositionsReply, StartSettler } from "./start_settler.ts";
import { type ConfigState, Reloader, type ReloadResult, type ReloadTrigger } from "./reload.ts";
import { addStats, type ConsumerStatus, consumerStatus } from "./status.ts";

/** A consumer's status with the counters that metrics expose. */
export interface ConsumerReport extends ConsumerStatus {
  /** Cumulative counters over every worker this consumer had, restarted ones included. */
  stats: WorkerStats;
  /** Per replica: whether a live worker runs it. */
  workers: Array<{ replica: number; up: boolean }>;
}

/** Counters of nothing yet. */
export function emptyStats(): WorkerStats {
  return {
    processed: 0,
    handlerErrors: 0,
    retries: 0,
    rebalances: 0,
    duration: { buckets: new Array(HANDLER_DURATION_BUCKETS.length + 1).fill(0), sum: 0, count: 0 },
  };
}
import { WorkerHandle } from "./worker_handle.ts";

export type { ConfigState, ConsumerStatus, ReloadResult, ReloadTrigger };

const NO_COUNTERS = {
  resets: { "committed": 0, "reset-on-start": 0, "no-committed-offset": 0, "out-of-range": 0 },
  deadLettered: 0,
  handlerErrors: 0,
  retired: emptyStats(),
};

/** The worker entry in TypeScript, used when no fresh bundle is given. */
export const SOURCE_WORKER_ENTRY: URL = new URL("../worker/entry.ts", import.meta.url);

/** Options for {@linkcode Supervisor}. */
export interface SupervisorOptions {
  runtime: Runtime;
  logger: Logger;
  logFormat?: "json" | "pretty";
  heartbeatIntervalMs?: number;
  policy?: Partial<ControlPolicy>;
  controlIntervalMs?: number;
  /** Restart backoff: first delay and cap, ms. */
  restartBackoff?: { baseMs: number; maxMs: number };
  /** How long a consumer's start may wait for all its replicas' first assignments, ms. */
  settleTimeoutMs?: number;
  /** Restarts within `failingWindowMs` that mark a consumer as failing. */
  failingAfter?: number;
  failingWindowMs?: number;
  /**
   * Called after a reload whose `http:` section changed, with the new
   * address: the status server rebinds there.
   */
  onHttpChange?: (listen: HttpConfig, next: Config) => void | Promise<void>;
  /** Watch the config file and handler modules and reload on change (default true). */
  watch?: boolean;
  /** The module each worker runs (default: the TypeScript entry; `chooseWorkerEntry()` picks a fresh bundle). */
  workerEntry?: URL;
}

/** One replica slot: the live worker (if any) and its restart history. */
interface Slot {
  id: string;
  consumer: ConsumerConfig;
  /** The cluster settings the worker was started with. */
  kafka: KafkaConfig;
  replica: number;
  handle: WorkerHandle | null;
  restarts: number;
  recentRestarts: number[];
  restartAt: number;
  /** Why the last worker ended (shown while the slot waits for its restart). */
  lastFailure: string | null;
  /** Counters of this slot's earlier workers. */
  retired: WorkerStats;
  /** Waiting for its first worker (a place among the workers loading at once). */
  queued: boolean;
  /** Why its next worker waits: the handler on disk is not the version that was checked. */
  held: string | null;
}

/** One consumer's start across its replicas. */
interface ConsumerRun {
  consumer: ConsumerConfig;
  settler: StartSettler;
  startedAt: number;
  ready: boolean;
  resets: Record<StartReason, number>;
  deadLettered: number;
  handlerErrors: number;
  /** What workers drained by a scale-down had counted (counters never go backwards). */
  retired: WorkerStats;
}

/**
 * How many workers load at once: loading is CPU-bound (each worker compiles
 * its client library), and a worker that has loaded goes on to connect and
 * join while the next ones load. Four per core kept 50 starting workers
 * from starving each other and the supervisor's own event loop.
 */
function maxLoading(): number {
  const cores = typeof navigator === "undefined" ? 1 : navigator.hardwareConcurrency ?? 1;
  return Math.max(4, 4 * cores);
}

/**
 * How many stalls ({@linkcode stallOf}) the control pass remembers.
 * Forgetting one only makes the checks stricter again; a loop that stalls
 * this often is itself the fault.
 */
const MAX_STALLS = 100;

/** How often a held slot looks at its handler file again, ms. */
const HELD_RECHECK_MS = 1_000;

/** How long removing a dead worker's member is retried: the session timeout, after which Kafka drops it anyway. */
const EVICT_WINDOW_MS = 30_000;
/** How long shutdown waits past its deadline to remove the members of workers that did not drain. */
const EVICT_AFTER_DEADLINE_MS = 2_000;

/** Runs and watches the workers of a config. */
export class Supervisor {
  #config: Config;
  #options:
    & Required<Omit<SupervisorOptions, "policy" | "onHttpChange">>
    & Pick<SupervisorOptions, "onHttpChange">
    & { policy: ControlPolicy };
  #slots = new Map<string, Slot>();
  #runs = new Map<string, ConsumerRun>();
  /** Group member removals under way (awaited before the daemon exits). */
  #evictions = new Set<Promise<void>>();
  #timer: ReturnType<typeof setInterval> | null = null;
  /** A control pass asked for by an event (a worker loaded, a slot queued). */
  #passSoon: ReturnType<typeof setTimeout> | null = null;
  #stopping = false;
  #lastControlPass = performance.now();
  /** The latest times this loop stood still ({@linkcode ControlPolicy.stalls}), oldest first. */
  #stalls: Stall[] = [];
  /** Workers of removed, changed or scaled-down consumers that are still draining. */
  #retiring = new Set<WorkerHandle>();
  #reloader: Reloader;

  constructor(config: Config, options: SupervisorOptions) {
    this.#config = config;
    this.#options = {
      logFormat: "json",
      heartbeatIntervalMs: 1000,
      controlIntervalMs: 500,
      restartBackoff: { baseMs: 500, maxMs: 30_000 },
      failingAfter: 5,
      settleTimeoutMs: 60_000,
      failingWindowMs: 5 * 60_000,
      watch: true,
      workerEntry: SOURCE_WORKER_ENTRY,
      ...options,
      policy: { heartbeatTimeoutMs: 10_000, maxLoading: maxLoading(), ...options.policy },
    };
    this.#reloader = new Reloader(config, {
      runtime: options.runtime,
      logger: options.logger,
      current: () => this.#config,
      apply: (next, diff) => this.#applyConfig(next, diff),
    });
  }

  /** Starts every consumer's workers and the control pass. */
  start(): void {
    const { logger, runtime } = this.#options;
    if (!runtime.sandbox) {
      logger.warn(
        "workers are NOT sandboxed on this runtime: handlers run with the daemon's permissions",
        {
          runtime: runtime.name,
        },
      );
    }
    for (const consumer of this.#config.consumers) this.#startConsumer(consumer);
    this.#lastControlPass = performance.now();
    this.#timer = setInterval(() => this.#controlPass(), this.#options.controlIntervalMs);
    this.#reloader.init().then(() => {
      if (this.#options.watch && !this.#stopping) this.#reloader.watch();
    }).catch((error) =>
      this.#options.logger.error(
        "cannot watch the config file; reload with SIGHUP instead",
        errorFields(error),
      )
    );
  }

  /**
   * Reloads the config file: validates all of it (handlers included), then
   * applies only the difference. Reloads run one at a time, in order.
   *
   * @example
   * ```ts
   * const result = await supervisor.reload("SIGHUP");
   * if (!result.ok) for (const e of result.errors) console.error(e.line, e.message);
   * ```
   */
  reload(trigger: ReloadTrigger): Promise<ReloadResult> {
    return this.#reloader.reload(trigger);
  }

  /** The config's path, revision and last reload (for status). */
  config(): ConfigState {
    return this.#reloader.state();
  }

  /** Starts a consumer: a fresh start (resetOffsetOnStart settles anew), every replica. */
  #startConsumer(consumer: ConsumerConfig): void {
    this.#runs.set(consumer.name, {
      consumer,
      settler: new StartSettler({
        replicas: consumer.replicas,
        resetOnStart: consumer.resetOffsetOnStart,
      }),
      startedAt: performance.now(),
      ready: false,
      resets: {
        "committed": 0,
        "reset-on-start": 0,
        "no-committed-offset": 0,
        "out-of-range": 0,
      },
      deadLettered: 0,
      handlerErrors: 0,
      retired: emptyStats(),
    });
    for (let replica = 0; replica < consumer.replicas; replica++) {
      const slot = this.#newSlot(consumer, replica);
      this.#slots.set(slot.id, slot);
      this.#queue(slot);
    }
  }

  /** Builds a replica slot of a consumer. */
  #newSlot(consumer: ConsumerConfig, replica: number): Slot {
    return {
      id: `${consumer.name}#${replica}`,
      consumer,
      kafka: this.#config.kafka,
      replica,
      handle: null,
      restarts: 0,
      recentRestarts: [],
      restartAt: 0,
      lastFailure: null,
      retired: emptyStats(),
      queued: true,
      held: null,
    };
  }

  /** Drains workers taken out of service; resolves true when all drained cleanly. */
  async #drainSlots(slots: readonly Slot[], deadline: number): Promise<boolean> {
    const results = await Promise.all(slots.map(async (slot) => {
      const handle = slot.handle;
      if (handle === null) return true;
      this.#retiring.add(handle);
      try {
        return await this.#drainOrEvict(slot, handle, deadline);
      } finally {
        this.#retiring.delete(handle);
      }
    }));
    return results.every(Boolean);
  }

  /**
   * Drains one worker; one that did not drain in time was terminated, and its
   * group member is removed, so that the group does not wait for its
   * session timeout.
   */
  async #drainOrEvict(
    slot: Slot,
    handle: WorkerHandle,
    deadline: number,
    kafka = slot.kafka,
  ): Promise<boolean> {
    const memberId = handle.memberId;
    const ok = await handle.drain(deadline);
    if (!ok && memberId !== null) this.#evict(slot.consumer, kafka, memberId);
    return ok;
  }

  /** Removes a consumer: its workers finish in-flight handlers, commit, leave the group and stop. */
  async #retireConsumer(name: string, deadline: number): Promise<boolean> {
    const slots = [...this.#slots.values()].filter((s) => s.consumer.name === name);
    for (const slot of slots) this.#slots.delete(slot.id);
    this.#runs.delete(name);
    const clean = await this.#drainSlots(slots, deadline);
    this.#options.logger.info("consumer drained", { consumer: name, clean });
    return clean;
  }

  /** Drains a consumer, then starts it with its new definition (a new start). */
  async #restartConsumer(consumer: ConsumerConfig, deadline: number): Promise<void> {
    await this.#retireConsumer(consumer.name, deadline);
    if (!this.#stopping) this.#startConsumer(consumer);
  }

  /**
   * Moves a consumer whose own definition and handler did not change to new
   * `kafka:` settings: each worker drains (finishes its handler calls,
   * commits, leaves the group) and a new one takes its place, as after a
   * crash. Its start is not repeated: partitions resume from committed
   * offsets and `resetOffsetOnStart` resets nothing (resets its start still
   * owes are done once, as after a crash). A changed `replicas` scales it.
   */
  async #reconnectConsumer(consumer: ConsumerConfig, deadline: number): Promise<void> {
    const run = this.#runs.get(consumer.name);
    if (run === undefined) return await this.#restartConsumer(consumer, deadline);
    const { kafka } = this.#config;
    this.#options.logger.info(
      "consumer reconnecting with the new kafka settings; it resumes from committed offsets",
      { consumer: consumer.name },
    );
    // Takes out the surplus, adds workers with the new settings (or, before
    // the start settled, restarts the consumer) before the first await.
    const scaling = consumer.replicas === run.consumer.replicas
      ? Promise.resolve()
      : this.#scaleConsumer(consumer, deadline);
    const slots = [...this.#slots.values()].filter((s) =>
      s.consumer.name === consumer.name && s.kafka !== kafka
    );
    run.consumer = consumer;
    await Promise.all([
      scaling,
      ...slots.map((slot) => this.#reconnectSlot(slot, consumer, deadline)),
    ]);
  }

  /** Drains a slot's worker and queues its successor, which connects with the new `kafka:`. */
  async #reconnectSlot(slot: Slot, consumer: ConsumerConfig, deadline: number): Promise<void> {
    const { handle, kafka: previous } = slot;
    slot.consumer = consumer;
    // Any worker this slot starts from now on (a restart included) uses the new settings.
    slot.kafka = this.#config.kafka;
    if (handle === null) return;
    this.#retiring.add(handle);
    try {
      await this.#drainOrEvict(slot, handle, deadline, previous);
    } finally {
      this.#retiring.delete(handle);
    }
    // Ended otherwise meanwhile (the control pass restarts it), or the consumer left.
    if (this.#stopping || slot.handle !== handle || this.#slots.get(slot.id) !== slot) return;
    if (handle.stats) slot.retired = addStats(slot.retired, handle.stats);
    slot.handle = null;
    const run = this.#runs.get(slot.consumer.name);
    if (run !== undefined) this.#sendPositions(run, run.settler.gone(slot.replica));
    this.#queue(slot);
  }

  /**
   * Adds or drains the replicas of a consumer whose `replicas` alone
   * changed. The others keep running; partitions that reach them through the
   * rebalance start from committed offsets (a scale is not a start). A
   * consumer whose start has not settled yet is restarted instead.
   */
  async #scaleConsumer(consumer: ConsumerConfig, deadline: number): Promise<void> {
    const run = this.#runs.get(consumer.name);
    if (run === undefined || !run.settler.settled) {
      return await this.#restartConsumer(consumer, deadline);
    }
    const slots = [...this.#slots.values()].filter((s) => s.consumer.name === consumer.name);
    const surplus = slots.filter((s) => s.replica >= consumer.replicas);
    for (const slot of surplus) this.#slots.delete(slot.id);
    run.consumer = consumer;
    run.settler = new StartSettler({ replicas: consumer.replicas, resetOnStart: false });
    run.settler.forceSettle();
    for (const slot of slots) slot.consumer = consumer;
    for (let replica = slots.length; replica < consumer.replicas; replica++) {
      const slot = this.#newSlot(consumer, replica);
      this.#slots.set(slot.id, slot);
      this.#queue(slot);
    }
    await this.#drainSlots(surplus, deadline);
    run.retired = surplus.reduce(
      (sum, s) => addStats(addStats(sum, s.retired), s.handle?.stats ?? emptyStats()),
      run.retired,
    );
  }

  /**
   * Applies a reload's difference: removed consumers drain and stop,
   * changed ones drain and start anew, ones that only see a `kafka:` change
   * reconnect, scaled ones add or drain workers, added ones start; unchanged
   * ones keep their workers and objects.
   */
  async #applyConfig(next: Config, diff: ConfigDiff): Promise<void> {
    if (this.#stopping) throw new Error("the daemon is shutting down");
    const running = new Map(this.#config.consumers.map((c) => [c.name, c]));
    const unchanged = new Set(diff.unchanged);
    const previousToken = this.#config.httpToken ?? null;
    this.#config = {
      ...next,
      consumers: next.consumers.map((c) => unchanged.has(c.name) ? running.get(c.name)! : c),
    };
    const deadline = Date.now() + next.shutdown.gracePeriodMs;
    const consumer = (name: string) => this.#config.consumers.find((c) => c.name === name)!;
    await Promise.all([
      ...diff.removed.map((name) => this.#retireConsumer(name, deadline)),
      ...diff.restarted.map((r) =>
        isReconnect(r)
          ? this.#reconnectConsumer(consumer(r.name), deadline)
          : this.#restartConsumer(consumer(r.name), deadline)
      ),
      ...diff.scaled.map((s) => this.#scaleConsumer(consumer(s.name), deadline)),
      ...diff.added.map((name) => Promise.resolve(this.#startConsumer(consumer(name)))),
    ]);
    // A new http.token also restarts the status server (its fingerprint leaves the secret out).
    if (diff.httpChanged || (next.httpToken ?? null) !== previousToken) {
      await this.#options.onHttpChange?.(next.http, next);
    }
  }

  /**
   * Queues a slot's first worker: the next control pass starts it once
   * fewer than `policy.maxLoading` workers are loading.
   */
  #queue(slot: Slot): void {
    slot.queued = true;
    slot.restartAt = 0;
    this.#runs.get(slot.consumer.name)?.settler.joining(slot.replica);
    this.#soon();
  }

  /** Runs a control pass on the next turn of the event loop (once, however often asked). */
  #soon(): void {
    if (this.#passSoon !== null) return;
    this.#passSoon = setTimeout(() => {
      this.#passSoon = null;
      this.#controlPass();
    }, 0);
  }

  /**
   * Holds a slot's next worker while its handler file is not the version
   * the running config was checked with (edited after the check, e.g.
   * during a drain): the reload that the edit causes checks it, and starts
   * the consumer anew if it is valid. Returns whether the slot is held.
   */
  #hold(slot: Slot, now: number): boolean {
    const held = this.#reloader.uncheckedHandler(slot.consumer.handler);
    if (held !== null && slot.held === null) {
      this.#options.logger.warn("worker held: its handler is not the checked version", {
        consumer: slot.consumer.name,
        replica: slot.replica,
        reason: held,
      });
    }
    if (held === null && slot.held !== null) {
      this.#options.logger.info("worker released: the checked handler is back", {
        consumer: slot.consumer.name,
        replica: slot.replica,
      });
    }
    slot.held = held;
    if (held !== null) slot.restartAt = now + HELD_RECHECK_MS;
    return held !== null;
  }

  #spawn(slot: Slot, recovery: boolean): void {
    if (this.#hold(slot, performance.now())) return;
    const run = this.#runs.get(slot.consumer.name);
    // The settle window of a consumer's start counts from its last replica's first worker.
    if (slot.queued && run !== undefined) run.startedAt = performance.now();
    slot.queued = false;
    const { runtime, logger, logFormat, heartbeatIntervalMs } = this.#options;
    run?.settler.joining(slot.replica);
    slot.handle = new WorkerHandle({
      consumer: slot.consumer,
      kafka: slot.kafka,
      replica: slot.replica,
      recovery,
      runtime,
      permissions: workerPermissions(slot.consumer, slot.kafka, PACKAGE_LOCATION),
      entry: this.#options.workerEntry,
      logger,
      logFormat,
      heartbeatIntervalMs,
      now: () => performance.now(),
      source: {
        file: basename(this.#config.path),
        topicLine: this.#config.lines?.[slot.consumer.name]?.topic ?? null,
        handlerLine: this.#config.lines?.[slot.consumer.name]?.handler ?? null,
      },
      onMessage: (h, m) => {
        if (slot.handle === h) this.#onWorkerMessage(slot, m);
      },
    });
  }

  #onWorkerMessage(slot: Slot, message: WorkerMessage): void {
    // A place among the workers loading at once is free: the next queued one starts now.
    if (message.type === "loaded") this.#soon();
    if (message.type === "stopped") {
      // Drained, but kafkajs was still rejoining a rebalance when it had to leave
      // (also for a worker a reload took out of service).
      if (message.evict !== undefined) this.#evict(slot.consumer, slot.kafka, message.evict);
      return;
    }
    // A worker taken out of service by a reload reports to nobody else while it drains.
    const run = this.#runs.get(slot.consumer.name);
    if (run === undefined || this.#slots.get(slot.id) !== slot) return;
    const log = this.#options.logger.child({ consumer: slot.consumer.name, replica: slot.replica });
    switch (message.type) {
      case "assigned":
        this.#sendPositions(
          run,
          run.settler.assigned(slot.replica, message.generation, message.partitions),
        );
        break;
      case "started":
        for (const s of message.started) run.resets[s.reason]++;
        this.#sendPositions(
          run,
          run.settler.started(
            slot.replica,
            message.generation,
            message.started.map((s) => s.partition),
            message.abandoned,
          ),
        );
        break;
      case "rebalancing":
        run.settler.joining(slot.replica);
        return;
      case "deadLettered":
        run.deadLettered += message.count;
        run.handlerErrors += message.count;
        return;
      case "error":
        if (!message.fatal && !message.error.retriable) run.handlerErrors++;
        return;
      case "reset":
        run.resets["out-of-range"]++;
        log.warn("offset out of range; partition moved to autoOffsetReset", {
          partition: message.partition,
        });
        break;
      default:
        return;
    }
    const dropped = run.settler.takeDropped();
    if (dropped.length > 0) {
      log.info("reset on start dropped: the partitions left this daemon before their reset", {
        partitions: dropped,
      });
    }
    if (!run.ready && run.settler.ready) {
      run.ready = true;
      log.info("consumer started", {
        heldAtStart: run.settler.heldAtStart,
        resetOnStart: run.consumer.resetOffsetOnStart ? run.settler.heldAtStart : [],
        ms: Math.round(performance.now() - run.startedAt),
      });
    }
  }

  #sendPositions(run: ConsumerRun, replies: PositionsReply[]): void {
    if (!run.consumer.resetOffsetOnStart) return;
    for (const reply of replies) {
      const handle = this.#slots.get(`${run.consumer.name}#${reply.replica}`)?.handle;
      handle?.send({
        v: PROTOCOL_VERSION,
        type: "positions",
        generation: reply.generation,
        resetOnStart: reply.resetOnStart,
      });
    }
  }

  #controlPass(): void {
    if (this.#stopping) return;
    const now = performance.now();
    const stall = stallOf(this.#lastControlPass, now, {
      intervalMs: this.#options.controlIntervalMs,
    });
    if (stall !== null) {
      // Workers' messages of that time are still queued: it does not count against them.
      this.#stalls.push(stall);
      if (this.#stalls.length > MAX_STALLS) this.#stalls.shift();
      this.#options.logger.warn(
        "the supervisor's event loop stood still; workers get that time back",
        {
          ms: Math.round(now - this.#lastControlPass),
          givenBackMs: Math.round(stall[1] - stall[0]),
        },
      );
    }
    this.#lastControlPass = now;
    // Restarts older than the window are forgotten: after a period of health
    // the backoff starts small again and a consumer stops being "failing".
    for (const slot of this.#slots.values()) {
      slot.recentRestarts = slot.recentRestarts.filter((t) =>
        now - t < this.#options.failingWindowMs
      );
    }
    const queued = new Set(
      [...this.#slots.values()].filter((s) => s.queued).map((s) => s.consumer.name),
    );
    for (const run of this.#runs.values()) {
      if (queued.has(run.consumer.name)) continue; // its window opens once every replica has a worker
      if (!run.settler.settled && now - run.startedAt > this.#options.settleTimeoutMs) {
        this.#options.logger.warn(
          "not every replica got an assignment in time; settling the start without them",
          {
            consumer: run.consumer.name,
            settleTimeoutMs: this.#options.settleTimeoutMs,
          },
        );
        this.#sendPositions(run, run.settler.forceSettle());
      }
    }
    const views: SlotView[] = [...this.#slots.values()].map((s) => ({
      id: s.id,
      empty: s.handle === null,
      restartAt: s.restartAt,
      dead: s.handle?.dead ?? null,
      lastHeartbeat: s.handle?.lastHeartbeat ?? 0,
      startedAt: s.handle?.startedAt ?? 0,
      loading: s.handle !== null && !s.handle.loaded,
      startupTimeoutMs: s.consumer.startupTimeoutMs,
      busySince: s.handle?.busySince ?? null,
      draining: s.handle?.state === "draining",
      handlerTimeoutMs: s.consumer.handlerTimeoutMs,
    }));
    const policy = { ...this.#options.policy, stalls: this.#stalls };
    for (const action of controlPass(views, now, policy)) {
      const slot = this.#slots.get(action.id)!;
      if (action.kind === "start") {
        this.#spawn(slot, !slot.queued);
        continue;
      }
      const memberId = slot.handle?.memberId ?? null;
      const ended = slot.handle;
      if (ended?.stats) slot.retired = addStats(slot.retired, ended.stats);
      const error = ended?.lastError;
      slot.lastFailure = error ? error.message : action.reason;
      slot.handle?.terminate(action.reason);
      slot.handle = null;
      if (memberId !== null) this.#evict(slot.consumer, slot.kafka, memberId);
      const run = this.#runs.get(slot.consumer.name)!;
      this.#sendPositions(run, run.settler.gone(slot.replica));
      slot.restarts++;
      slot.recentRestarts.push(now);
      const delay = backoffDelay(slot.recentRestarts.length, {
        ...this.#options.restartBackoff,
        jitter: 0.3,
      });
      slot.restartAt = now + delay;
      this.#options.logger.warn("worker restarting", {
        consumer: slot.consumer.name,
        replica: slot.replica,
        reason: action.reason,
        restarts: slot.restarts,
        delayMs: Math.round(delay),
      });
    }
  }

  /** Takes a dead worker's member out of its group, so its partitions move now, not after the session timeout. */
  #evict(consumer: ConsumerConfig, kafka: KafkaConfig, memberId: string): void {
    const { logger } = this.#options;
    const fields = { consumer: consumer.name, memberId };
    const engine = consumer.engine ?? kafka.engine;
    const eviction = (async () => {
      const since = performance.now();
      for (let attempt = 1;; attempt++) {
        try {
          await evictGroupMember(kafka, engine, { group: consumer.group, memberId, logger });
          logger.info("dead worker's group member removed", fields);
          return;
        } catch (error) {
          // Past the session timeout the broker has dropped the member itself.
          const delay = backoffDelay(attempt, { baseMs: 500, maxMs: 5_000, jitter: 0.2 });
          if (this.#stopping || performance.now() - since + delay > EVICT_WINDOW_MS) {
            logger.warn(
              "cannot remove the dead worker's group member; the group waits for its session timeout",
              { ...fields, attempts: attempt, ...errorFields(error) },
            );
            return;
          }
          await new Promise((r) => setTimeout(r, delay));
        }
      }
    })();
    this.#evictions.add(eviction);
    eviction.finally(() => this.#evictions.delete(eviction));
  }

  /**
   * Drains every worker: stop fetching, finish in-flight handlers, commit,
   * leave the group. Resolves true if all drained within `gracePeriodMs`.
   */
  async stop(gracePeriodMs: number): Promise<boolean> {
    this.#stopping = true;
    this.#reloader.close();
    if (this.#timer !== null) clearInterval(this.#timer);
    if (this.#passSoon !== null) clearTimeout(this.#passSoon);
    const deadline = Date.now() + gracePeriodMs;
    const results = await Promise.all([
      ...[...this.#slots.values()].map((s) =>
        s.handle === null ? Promise.resolve(true) : this.#drainOrEvict(s, s.handle, deadline)
      ),
      // Already draining for a reload: the same drain (a worker is stopped once).
      ...[...this.#retiring].map((h) => h.drain(deadline)),
    ]);
    // Members that could not leave by themselves are removed before the daemon exits.
    if (this.#evictions.size > 0) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const waitMs = Math.max(deadline - Date.now(), EVICT_AFTER_DEADLINE_MS);
      await Promise.race([
        Promise.all([...this.#evictions]),
        new Promise((r) => (timer = setTimeout(r, waitMs))),
      ]);
      clearTimeout(timer);
    }
    return results.every(Boolean);
  }

  /** Ends every worker at once (a second signal). */
  terminateAll(): void {
    for (const slot of this.#slots.values()) slot.handle?.terminate("forced exit");
    for (const handle of this.#retiring) handle.terminate("forced exit");
  }

  /** The status of every consumer, aggregated over its replicas. */
  status(): ConsumerStatus[] {
    return this.report();
  }

  /** Each consumer's status with its cumulative counters and replicas (for metrics). */
  report(): ConsumerReport[] {
    const now = performance.now();
    return this.#config.consumers.map((consumer) => {
      const slots = [...this.#slots.values()].filter((s) => s.consumer.name === consumer.name);
      // Before start(), and between the drain and the start of a restart, a consumer has no run.
      const run = this.#runs.get(consumer.name) ?? NO_COUNTERS;
      const handles = slots.flatMap((s) => (s.handle ? [s.handle] : []));
      const status = consumerStatus(consumer, {
        workers: handles.map((h) => ({
          state: h.state,
          assigned: h.assigned,
          progress: h.progress,
          lastError: h.lastError,
          problem: h.problem,
          holdsAssignment: h.holdsAssignment,
        })),
        restarts: slots.reduce((n, s) => n + s.restarts, 0),
        failing: slots.some((s) => s.recentRestarts.length >= this.#options.failingAfter),
        counters: run,
        fingerprint: this.#reloader.fingerprint(consumer.name),
        replicas: consumer.replicas,
        down: slots.filter((s) =>
          s.handle === null && (!s.queued || s.held !== null) && !this.#stopping
        ).map((s) => ({
          replica: s.replica,
          reason: s.held ?? s.lastFailure ?? "the worker ended",
          held: s.held !== null,
        })),
        paused: handles.flatMap((h) =>
          [...h.paused].filter(([, p]) => p.until > now).map(([partition, p]) => ({
            partition,
            reason: p.reason,
          }))
        ),
      });
      const stats = slots.reduce(
        (sum, s) => addStats(addStats(sum, s.retired), s.handle?.stats ?? emptyStats()),
        run.retired,
      );
      const workers = slots.map((s) => ({
        replica: s.replica,
        up: s.handle !== null && (s.handle.state === "starting" || s.handle.state === "running"),
      }));
      return { ...status, stats, workers };
    });
  }

  /** Whether the control pass ran lately (the supervisor's loop is alive). */
  alive(now = performance.now()): boolean {
    if (this.#timer === null) return false;
    if (this.#stopping) return true;
    return now - this.#lastControlPass < Math.max(5_000, this.#options.controlIntervalMs * 10);
  }
}

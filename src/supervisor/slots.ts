/**
 * The replica slots of the running consumers and their workers' lives: a
 * slot per replica holds its live worker and restart history, a
 * {@linkcode ConsumerRun} per consumer its start and counters. A slot is
 * queued for its first worker, spawns it (unless its handler is held), hears
 * it, ends it with a backoff before the next one, and drains it.
 *
 * @module
 */
import { basename } from "node:path";
import type { Config, ConsumerConfig, KafkaConfig } from "../config/types.ts";
import type { Logger } from "../log.ts";
import {
  type ConfigSource,
  errorText,
  PROTOCOL_VERSION,
  type WorkerMessage,
  type WorkerStats,
} from "../protocol.ts";
import type { Runtime } from "../runtime/types.ts";
import { backoffDelay } from "../backoff.ts";
import { groupProtocolOf } from "../config/membership.ts";
import { ConsumerRun } from "./consumer_run.ts";
import type { SlotView } from "./control_pass.ts";
import type { Evictions } from "./evictions.ts";
import { type HandlerProject, handlerProject } from "../config/handler_project.ts";
import { PACKAGE_LOCATION } from "./package_location.ts";
import { workerPermissions } from "./permissions.ts";
import { addStats, emptyStats } from "./status.ts";
import { type DrainEnd, WorkerHandle } from "./worker_handle.ts";

/** The error of a worker whose static member's instance id another member holds. */
const INSTANCE_ID_IN_USE = "InstanceIdInUseError";
/** How often a held slot looks at its handler file again, ms. */
const HELD_RECHECK_MS = 1_000;

/** One replica slot: the live worker (if any) and its restart history. */
export interface Slot {
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
  /**
   * Why it has no worker and starts none: another member holds its
   * instance id (a second daemon with the same `kafka.instanceId`); taking
   * it back would fence that one in turn. A reload that reconnects it, or
   * a restart of the daemon, tries again.
   */
  parked: string | null;
}

/** What the control pass reads of a slot. */
export function slotView(s: Slot): SlotView {
  return {
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
  };
}

/**
 * Where a consumer is defined in `config` (the file by its name alone) and
 * where its handler's project is, for its worker's errors.
 */
function sourceOf(config: Config, name: string, project: HandlerProject | null): ConfigSource {
  const lines = config.lines?.[name];
  const file = basename(config.path);
  return {
    file,
    topicLine: lines?.topic ?? null,
    handlerLine: lines?.handler ?? null,
    ...(lines ? { place: { ...lines.place, file } } : {}),
    projectRoot: project?.root ?? null,
  };
}

/**
 * Whether a drain counts as clean: the worker stopped without an error, or
 * it was gone (it died, closed itself or went silent: there was nothing
 * left to drain, and its uncommitted messages are delivered again as after
 * any crash).
 */
function drainedOrGone(end: DrainEnd): boolean {
  return end === "stopped" || end === "gone";
}

/** Options for {@linkcode Slots}. */
export interface SlotsOptions {
  runtime: Runtime;
  logger: Logger;
  logFormat: "json" | "pretty";
  heartbeatIntervalMs: number;
  /** A worker silent this long is gone, while it drains too. */
  heartbeatTimeoutMs: number;
  /** The module each worker runs. */
  workerEntry: URL;
  /** Restart backoff: first delay and cap, ms. */
  restartBackoff: { baseMs: number; maxMs: number };
  /** The running config: new slots take its `kafka:`, workers its file name and lines. */
  config: () => Config;
  /** Why a handler file is not the version the running config was checked with, or null. */
  uncheckedHandler: (handler: string) => string | null;
  evictions: Evictions;
  /** Asks for a control pass soon (a slot was queued, a worker loaded). */
  soon: () => void;
}

/**
 * The slots and runs of the running consumers.
 *
 * @example
 * ```ts ignore
 * const slots = new Slots(options);
 * slots.startConsumer(consumer); // queued: the next control pass spawns the workers
 * ```
 */
export class Slots {
  readonly #options: SlotsOptions;
  readonly #slots = new Map<string, Slot>();
  readonly #runs = new Map<string, ConsumerRun>();
  /** Workers of removed, changed or scaled-down consumers that are still draining. */
  readonly #retiring = new Set<WorkerHandle>();

  constructor(options: SlotsOptions) {
    this.#options = options;
  }

  /** Every slot, in the order they were added. */
  all(): Slot[] {
    return [...this.#slots.values()];
  }

  /** The slots of consumer `name`. */
  of(name: string): Slot[] {
    return this.all().filter((s) => s.consumer.name === name);
  }

  /** The slot `id` (`name#replica`). */
  get(id: string): Slot | undefined {
    return this.#slots.get(id);
  }

  /** Whether `slot` is still in service (not removed by a reload). */
  holds(slot: Slot): boolean {
    return this.#slots.get(slot.id) === slot;
  }

  /** The run of consumer `name`; none before its start, and between a restart's drain and start. */
  run(name: string): ConsumerRun | undefined {
    return this.#runs.get(name);
  }

  /** Every consumer's run. */
  runs(): ConsumerRun[] {
    return [...this.#runs.values()];
  }

  /** Starts a consumer: a fresh start (resetOffsetOnStart settles anew), every replica. */
  startConsumer(consumer: ConsumerConfig): void {
    this.#runs.set(
      consumer.name,
      new ConsumerRun(consumer, {
        now: performance.now(),
        movesInTwoSteps: groupProtocolOf(consumer, this.#options.config().kafka) === "consumer",
        deliver: (reply) =>
          this.#slots.get(`${consumer.name}#${reply.replica}`)?.handle?.send({
            v: PROTOCOL_VERSION,
            type: "positions",
            generation: reply.generation,
            resetOnStart: reply.resetOnStart,
            ...(reply.decided ? { decided: reply.decided } : {}),
          }),
      }),
    );
    for (let replica = 0; replica < consumer.replicas; replica++) this.add(consumer, replica);
  }

  /** Adds a replica slot of a consumer and queues its first worker. */
  add(consumer: ConsumerConfig, replica: number): void {
    const slot: Slot = {
      id: `${consumer.name}#${replica}`,
      consumer,
      kafka: this.#options.config().kafka,
      replica,
      handle: null,
      restarts: 0,
      recentRestarts: [],
      restartAt: 0,
      lastFailure: null,
      retired: emptyStats(),
      queued: true,
      held: null,
      parked: null,
    };
    this.#slots.set(slot.id, slot);
    this.queue(slot);
  }

  /** Takes slots out of service (their workers keep running until drained). */
  remove(slots: readonly Slot[]): void {
    for (const slot of slots) this.#slots.delete(slot.id);
  }

  /** Takes a consumer out of service: its slots and its run; returns the slots. */
  removeConsumer(name: string): Slot[] {
    const slots = this.of(name);
    this.remove(slots);
    this.#runs.delete(name);
    return slots;
  }

  /**
   * Queues a slot's first worker: the next control pass starts it once
   * fewer than `policy.maxLoading` workers are loading.
   */
  queue(slot: Slot): void {
    slot.queued = true;
    slot.restartAt = 0;
    slot.parked = null;
    this.#runs.get(slot.consumer.name)?.settler.joining(slot.replica);
    this.#options.soon();
  }

  /**
   * Holds a slot's next worker while its handler file is not the version
   * the running config was checked with (edited after the check, e.g.
   * during a drain): the reload that the edit causes checks it, and starts
   * the consumer anew if it is valid. Returns whether the slot is held.
   */
  #hold(slot: Slot, now: number): boolean {
    const held = this.#options.uncheckedHandler(slot.consumer.handler);
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

  /** Starts a slot's worker: its first (queued) or the next after one ended (`recovery`). */
  spawn(slot: Slot, recovery: boolean): void {
    if (this.#hold(slot, performance.now())) return;
    const run = this.#runs.get(slot.consumer.name);
    // The settle window of a consumer's start counts from its last replica's first worker.
    if (slot.queued && run !== undefined) run.startedAt = performance.now();
    slot.queued = false;
    const { runtime, logger, logFormat, heartbeatIntervalMs, heartbeatTimeoutMs } = this.#options;
    const config = this.#options.config();
    run?.settler.joining(slot.replica);
    const project = handlerProject(slot.consumer.handler);
    slot.handle = new WorkerHandle({
      consumer: slot.consumer,
      kafka: slot.kafka,
      replica: slot.replica,
      recovery,
      runtime,
      permissions: workerPermissions(slot.consumer, slot.kafka, {
        ...PACKAGE_LOCATION,
        handlerProject: project,
      }),
      entry: this.#options.workerEntry,
      logger,
      logFormat,
      heartbeatIntervalMs,
      heartbeatTimeoutMs,
      now: () => performance.now(),
      source: sourceOf(config, slot.consumer.name, project),
      onMessage: (h, m) => {
        if (slot.handle === h) this.#onWorkerMessage(slot, m);
      },
    });
  }

  #onWorkerMessage(slot: Slot, message: WorkerMessage): void {
    // A place among the workers loading at once is free: the next queued one starts now.
    if (message.type === "loaded") this.#options.soon();
    if (message.type === "stopped") {
      // Drained, but leaving did not finish in time (kafkajs was still rejoining a rebalance,
      // a coordinator was slow; also for a worker a reload took out of service): a static
      // member that was to stay leaves for a while on its behalf instead.
      if (message.evict !== undefined) {
        this.#options.evictions.evict(slot.consumer, slot.kafka, message.evict, {
          replica: slot.replica,
          leave: slot.handle?.leaving ?? true,
        });
      }
      return;
    }
    // A worker taken out of service by a reload reports to nobody else while it drains.
    const run = this.#runs.get(slot.consumer.name);
    if (run === undefined || !this.holds(slot)) return;
    const log = this.#options.logger.child({ consumer: slot.consumer.name, replica: slot.replica });
    run.receive(slot.replica, message, log);
  }

  /**
   * Ends a slot's worker for the control pass's `reason` (it died, missed a
   * deadline, went silent…): its member leaves the group, its replica's
   * partitions are no longer waited for, and its next worker starts after a
   * backoff that grows with its recent restarts.
   */
  restart(slot: Slot, reason: string, now: number): void {
    const memberId = slot.handle?.memberId ?? null;
    const ended = slot.handle;
    if (ended?.stats) slot.retired = addStats(slot.retired, ended.stats);
    const error = ended?.lastError;
    slot.lastFailure = error ? errorText(error) : reason;
    slot.handle?.terminate(reason);
    slot.handle = null;
    if (error?.name === INSTANCE_ID_IN_USE) return this.#park(slot, error.message);
    // A static member is kept for its replacement, which rejoins with the same instance id.
    if (memberId !== null) {
      this.#options.evictions.evict(slot.consumer, slot.kafka, memberId, {
        replica: slot.replica,
        leave: false,
      });
    }
    const run = this.#runs.get(slot.consumer.name)!;
    run.send(run.settler.gone(slot.replica));
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
      reason,
      restarts: slot.restarts,
      delayMs: Math.round(delay),
    });
  }

  /** Leaves a slot without a worker: its instance id is another member's (see {@linkcode Slot.parked}). */
  #park(slot: Slot, why: string): void {
    slot.parked = why;
    slot.restartAt = Infinity;
    const run = this.#runs.get(slot.consumer.name)!;
    run.send(run.settler.gone(slot.replica));
    this.#options.logger.error(
      "worker not restarted: its instance id is in use by another member; a reload that changes " +
        "kafka.instanceId, or a restart of this daemon, tries again",
      { consumer: slot.consumer.name, replica: slot.replica, reason: why },
    );
  }

  /** Drains workers taken out of service; resolves true when all drained cleanly. */
  async drain(slots: readonly Slot[], deadline: number): Promise<boolean> {
    const results = await Promise.all(slots.map((slot) => {
      const handle = slot.handle;
      if (handle === null) return true;
      return this.whileRetiring(handle, () => this.drainOrEvict(slot, handle, deadline));
    }));
    return results.every(Boolean);
  }

  /**
   * Runs `drain` of a worker out of service; meanwhile
   * {@linkcode Slots.drainAll} and {@linkcode Slots.terminateAll} still reach it.
   */
  async whileRetiring<T>(handle: WorkerHandle, drain: () => Promise<T>): Promise<T> {
    this.#retiring.add(handle);
    try {
      return await drain();
    } finally {
      this.#retiring.delete(handle);
    }
  }

  /**
   * Drains one worker; one that did not drain in time, or was gone, was
   * terminated, and its group member is removed, so that the group does not
   * wait for its session timeout. True when it drained, or was already gone
   * (a worker that died is not a drain that failed: the others drained).
   */
  async drainOrEvict(
    slot: Slot,
    handle: WorkerHandle,
    deadline: number,
    { kafka = slot.kafka, leave = true }: { kafka?: KafkaConfig; leave?: boolean } = {},
  ): Promise<boolean> {
    const memberId = handle.memberId;
    const end = await handle.drain(deadline, { leave });
    if (end !== "stopped" && memberId !== null) {
      this.#options.evictions.evict(slot.consumer, kafka, memberId, {
        replica: slot.replica,
        leave,
      });
    }
    return drainedOrGone(end);
  }

  /**
   * Drains every worker (the daemon stops), those a reload is draining too;
   * static members stay in their groups for the daemon's next run. Resolves
   * true when all drained cleanly.
   */
  async drainAll(deadline: number): Promise<boolean> {
    const results = await Promise.all([
      ...this.all().map((s) =>
        s.handle === null
          ? Promise.resolve(true)
          : this.drainOrEvict(s, s.handle, deadline, { leave: false })
      ),
      // Already draining for a reload: the same drain (a worker is stopped once).
      ...[...this.#retiring].map(async (h) => drainedOrGone(await h.drain(deadline))),
    ]);
    return results.every(Boolean);
  }

  /** Ends every worker at once (a second signal). */
  terminateAll(): void {
    for (const slot of this.#slots.values()) slot.handle?.terminate("forced exit");
    for (const handle of this.#retiring) handle.terminate("forced exit");
  }
}

/**
 * The supervisor: one worker per consumer replica, a periodic control pass
 * that restarts dead or hung workers with backoff, and a graceful drain.
 *
 * @module
 */
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";
import type { Config, ConsumerConfig } from "../config/types.ts";
import { errorFields, type Logger } from "../log.ts";
import { evictGroupMember } from "../kafka/evict.ts";
import { PROTOCOL_VERSION, type StartReason, type WorkerMessage } from "../protocol.ts";
import type { Runtime } from "../runtime/types.ts";
import { backoffDelay } from "../backoff.ts";
import { controlPass, type ControlPolicy, type SlotView } from "./control_pass.ts";
import { workerPermissions } from "./permissions.ts";
import { type PositionsReply, StartSettler } from "./start_settler.ts";
import { type ConsumerStatus, consumerStatus } from "./status.ts";

export type { ConsumerStatus };
import { WorkerHandle } from "./worker_handle.ts";

const ENTRY = new URL("../worker/entry.ts", import.meta.url);
const RUNTIME_DIR = dirname(fileURLToPath(new URL("../", import.meta.url)));

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
}

/** One replica slot: the live worker (if any) and its restart history. */
interface Slot {
  id: string;
  consumer: ConsumerConfig;
  replica: number;
  handle: WorkerHandle | null;
  restarts: number;
  recentRestarts: number[];
  restartAt: number;
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
}

/** Runs and watches the workers of a config. */
export class Supervisor {
  #config: Config;
  #options: Required<Omit<SupervisorOptions, "policy">> & { policy: ControlPolicy };
  #slots = new Map<string, Slot>();
  #runs = new Map<string, ConsumerRun>();
  #timer: ReturnType<typeof setInterval> | null = null;
  #stopping = false;
  #packageDir = dirname(RUNTIME_DIR);

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
      ...options,
      policy: { heartbeatTimeoutMs: 10_000, ...options.policy },
    };
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
    for (const consumer of this.#config.consumers) {
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
      });
      for (let replica = 0; replica < consumer.replicas; replica++) {
        const slot: Slot = {
          id: `${consumer.name}#${replica}`,
          consumer,
          replica,
          handle: null,
          restarts: 0,
          recentRestarts: [],
          restartAt: 0,
        };
        this.#slots.set(slot.id, slot);
        this.#spawn(slot, false);
      }
    }
    this.#timer = setInterval(() => this.#controlPass(), this.#options.controlIntervalMs);
  }

  #spawn(slot: Slot, recovery: boolean): void {
    const { runtime, logger, logFormat, heartbeatIntervalMs } = this.#options;
    this.#runs.get(slot.consumer.name)?.settler.joining(slot.replica);
    slot.handle = new WorkerHandle({
      consumer: slot.consumer,
      kafka: this.#config.kafka,
      replica: slot.replica,
      recovery,
      runtime,
      permissions: workerPermissions(slot.consumer, this.#config.kafka, {
        runtimeDir: RUNTIME_DIR,
        packageDir: this.#packageDir,
      }),
      entry: ENTRY,
      logger,
      logFormat,
      heartbeatIntervalMs,
      now: () => performance.now(),
      onMessage: (h, m) => {
        if (slot.handle === h) this.#onWorkerMessage(slot, m);
      },
    });
  }

  #onWorkerMessage(slot: Slot, message: WorkerMessage): void {
    const run = this.#runs.get(slot.consumer.name)!;
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
    // Restarts older than the window are forgotten: after a period of health
    // the backoff starts small again and a consumer stops being "failing".
    for (const slot of this.#slots.values()) {
      slot.recentRestarts = slot.recentRestarts.filter((t) =>
        now - t < this.#options.failingWindowMs
      );
    }
    for (const run of this.#runs.values()) {
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
    for (const action of controlPass(views, now, this.#options.policy)) {
      const slot = this.#slots.get(action.id)!;
      if (action.kind === "start") {
        this.#spawn(slot, true);
        continue;
      }
      const memberId = slot.handle?.memberId ?? null;
      slot.handle?.terminate(action.reason);
      slot.handle = null;
      if (memberId !== null) this.#evict(slot.consumer, memberId);
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
  #evict(consumer: ConsumerConfig, memberId: string): void {
    const { logger } = this.#options;
    const engine = consumer.engine ?? this.#config.kafka.engine;
    evictGroupMember(this.#config.kafka, engine, { group: consumer.group, memberId, logger }).then(
      () =>
        logger.info("dead worker's group member removed", { consumer: consumer.name, memberId }),
      (error) =>
        logger.warn(
          "cannot remove the dead worker's group member; the group waits for its session timeout",
          {
            consumer: consumer.name,
            memberId,
            ...errorFields(error),
          },
        ),
    );
  }

  /**
   * Drains every worker: stop fetching, finish in-flight handlers, commit,
   * leave the group. Resolves true if all drained within `gracePeriodMs`.
   */
  async stop(gracePeriodMs: number): Promise<boolean> {
    this.#stopping = true;
    if (this.#timer !== null) clearInterval(this.#timer);
    const deadline = Date.now() + gracePeriodMs;
    const results = await Promise.all(
      [...this.#slots.values()].map((s) => s.handle?.drain(deadline) ?? Promise.resolve(true)),
    );
    return results.every(Boolean);
  }

  /** Ends every worker at once (a second signal). */
  terminateAll(): void {
    for (const slot of this.#slots.values()) slot.handle?.terminate("forced exit");
  }

  /** The status of every consumer, aggregated over its replicas. */
  status(): ConsumerStatus[] {
    return this.#config.consumers.map((consumer) => {
      const slots = [...this.#slots.values()].filter((s) => s.consumer === consumer);
      const run = this.#runs.get(consumer.name)!;
      return consumerStatus(consumer, {
        workers: slots.flatMap((s) => (s.handle ? [s.handle] : [])),
        restarts: slots.reduce((n, s) => n + s.restarts, 0),
        failing: slots.some((s) => s.recentRestarts.length >= this.#options.failingAfter),
        counters: run,
      });
    });
  }
}

/**
 * One worker (a consumer replica) as the supervisor sees it: its Web Worker,
 * its lifecycle state, its last heartbeat and the progress it reported.
 *
 * @module
 */
import type { ConsumerConfig, KafkaConfig } from "../config/types.ts";
import type { Logger } from "../log.ts";
import {
  type ConfigSource,
  type DispatchState,
  type ErrorData,
  isWorkerMessage,
  type PartitionProgress,
  PROTOCOL_VERSION,
  type SupervisorMessage,
  type WorkerMessage,
  type WorkerStats,
} from "../protocol.ts";
import type { Runtime, WorkerPermissions } from "../runtime/types.ts";

/** Lifecycle states; they only move forward (a restart makes a new handle). */
export type WorkerState = "starting" | "running" | "draining" | "stopped" | "failed";

const ORDER: Record<WorkerState, number> = {
  starting: 0,
  running: 1,
  draining: 2,
  stopped: 3,
  failed: 3,
};

/** Options for {@linkcode WorkerHandle}. */
export interface WorkerHandleOptions {
  consumer: ConsumerConfig;
  kafka: KafkaConfig;
  replica: number;
  recovery: boolean;
  runtime: Runtime;
  permissions: WorkerPermissions;
  entry: URL;
  logger: Logger;
  logFormat: "json" | "pretty";
  heartbeatIntervalMs: number;
  now: () => number;
  /** Where the consumer is defined in the config, for the worker's errors. */
  source?: ConfigSource;
  onMessage?: (handle: WorkerHandle, message: WorkerMessage) => void;
}

/** A live worker and what it last reported. */
export class WorkerHandle {
  readonly consumer: ConsumerConfig;
  readonly replica: number;
  state: WorkerState = "starting";
  startedAt: number;
  lastHeartbeat: number;
  busySince: number | null = null;
  /** The handler module was imported and its setup() finished. */
  loaded = false;
  assigned: number[] = [];
  /** The worker's group member id, once it joined (balanced mode). */
  memberId: string | null = null;
  readonly progress = new Map<number, PartitionProgress>();
  lastError: ErrorData | null = null;
  /** What keeps the worker from connecting (missing topic, unreachable brokers); null once connected. */
  problem: ErrorData | null = null;
  /** The worker's cumulative counters, as last reported. */
  stats: WorkerStats | null = null;
  /** `ordering: key` and `none`: calls in flight, buffered messages, paused keys, as last reported. */
  dispatch: DispatchState | null = null;
  /** The generation of the last assignment, and of the last one whose start positions were committed. */
  assignedGeneration = 0;
  startedGeneration = 0;
  /** Partitions paused after a handler failure: reason and when the worker retries them (ms, `now`). */
  readonly paused = new Map<number, { reason: string; until: number }>();
  /** Set when the worker threw, crashed fatally or stopped itself. */
  dead: string | null = null;
  #worker: Worker;
  #stopped: Promise<void>;
  #draining: Promise<boolean> | null = null;
  #resolveStopped!: () => void;
  #log: Logger;
  #now: () => number;

  constructor(options: WorkerHandleOptions) {
    const { consumer, replica, runtime, now } = options;
    this.consumer = consumer;
    this.replica = replica;
    this.#now = now;
    this.startedAt = now();
    this.lastHeartbeat = now();
    this.#log = options.logger.child({ consumer: consumer.name, replica });
    this.#stopped = new Promise((r) => (this.#resolveStopped = r));
    this.#worker = runtime.spawnWorker(options.entry, {
      name: `${consumer.name}#${replica}`,
      permissions: options.permissions,
    });
    this.#worker.onmessage = (event: MessageEvent) => {
      if (!isWorkerMessage(event.data)) return;
      this.lastHeartbeat = now();
      this.#receive(event.data);
      options.onMessage?.(this, event.data);
    };
    this.#worker.onerror = (event: ErrorEvent) => {
      event.preventDefault();
      this.lastError = { name: "Error", message: event.message, retriable: true };
      this.#die(`uncaught error: ${event.message}`);
    };
    this.#worker.postMessage({
      v: PROTOCOL_VERSION,
      type: "start",
      consumer,
      kafka: options.kafka,
      replica,
      recovery: options.recovery,
      heartbeatIntervalMs: options.heartbeatIntervalMs,
      logFormat: options.logFormat,
      ...(options.source ? { source: options.source } : {}),
    });
  }

  /** Joined, holding an assignment whose start positions are committed. */
  get holdsAssignment(): boolean {
    return this.assignedGeneration > 0 && this.startedGeneration >= this.assignedGeneration;
  }

  #receive(message: WorkerMessage): void {
    switch (message.type) {
      case "loaded":
        this.loaded = true;
        break;
      case "ready":
        this.problem = null;
        this.advance("running");
        break;
      case "stats":
        this.stats = message.stats;
        break;
      case "dispatch":
        this.dispatch = message.state;
        break;
      case "started":
        if (message.generation === this.assignedGeneration) {
          this.startedGeneration = message.generation;
          // The start positions are committed: status shows them before the next offsets report.
          for (const { partition, offset } of message.started) {
            const known = this.progress.get(partition);
            this.progress.set(partition, {
              partition,
              processed: known?.processed ?? null,
              committed: offset,
              highWatermark: known?.highWatermark ?? null,
            });
          }
        }
        break;
      case "heartbeat":
        this.busySince = message.busyMs === null ? null : this.#now() - message.busyMs;
        break;
      case "assigned":
        this.assigned = message.partitions;
        this.assignedGeneration = message.generation;
        this.memberId = message.memberId ?? null;
        for (const p of [...this.paused.keys()]) {
          if (!message.partitions.includes(p)) this.paused.delete(p);
        }
        for (const p of [...this.progress.keys()]) {
          if (!message.partitions.includes(p)) this.progress.delete(p);
        }
        this.#log.info("partitions assigned", {
          partitions: message.partitions,
          generation: message.generation,
          memberId: this.memberId,
        });
        break;
      case "revoked":
        this.#log.info("partitions revoked", { partitions: message.partitions });
        break;
      case "offsets":
        for (const p of message.partitions) this.progress.set(p.partition, p);
        break;
      case "error":
        this.lastError = message.error;
        if (!message.fatal && message.error.retriable && this.state === "starting") {
          this.problem = message.error;
        }
        if (message.partition !== undefined) {
          this.paused.set(message.partition, {
            reason: `handler failed after retries: ${message.error.message}`,
            until: this.#now() + this.consumer.retry.maxBackoffMs,
          });
        }
        if (message.fatal) this.#die(`fatal error: ${message.error.message}`);
        break;
      case "stopped":
        if (message.error) this.lastError = message.error;
        this.advance(message.error ? "failed" : "stopped");
        this.#resolveStopped();
        // Its work is done; Bun's workers cannot close themselves.
        this.#worker.terminate();
        break;
    }
  }

  #die(reason: string): void {
    if (this.dead !== null || ORDER[this.state] >= ORDER.draining) return;
    this.dead = reason;
  }

  /** Moves the state forward; moving backwards is ignored. */
  advance(state: WorkerState): void {
    if (ORDER[state] <= ORDER[this.state]) return;
    this.#log.info("worker state", { from: this.state, to: state });
    this.state = state;
  }

  /** Sends a message to the worker. */
  send(message: SupervisorMessage): void {
    this.#worker.postMessage(message);
  }

  /** Asks the worker to drain; resolves when it reports `stopped` or the deadline passes. */
  drain(deadlineMs: number): Promise<boolean> {
    // A worker is stopped once: a second caller (shutdown during a reload's drain) shares it.
    this.#draining ??= this.#drain(deadlineMs);
    return this.#draining;
  }

  async #drain(deadlineMs: number): Promise<boolean> {
    if (ORDER[this.state] >= ORDER.stopped) return true;
    this.advance("draining");
    this.#worker.postMessage({ v: PROTOCOL_VERSION, type: "stop", deadlineMs });
    const late = new Promise<false>((r) =>
      setTimeout(() => r(false), Math.max(0, deadlineMs - Date.now()) + 250)
    );
    const ok = await Promise.race([this.#stopped.then(() => true), late]);
    if (!ok) this.terminate("did not drain before the deadline");
    return ok && this.state === "stopped";
  }

  /** Ends the worker at once. */
  terminate(reason: string): void {
    this.#worker.terminate();
    if (ORDER[this.state] < ORDER.stopped) {
      this.#log.warn("worker terminated", { reason });
      this.advance("failed");
    }
    this.#resolveStopped();
  }
}

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

/** Whether `processed` (the last processed offset) reached `offset`; false when either is unknown. */
function pastOffset(processed: string | null, offset: string | null): boolean {
  return processed !== null && offset !== null && BigInt(processed) >= BigInt(offset);
}

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
  /** The cluster settings the worker was started with. */
  readonly kafka: KafkaConfig;
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
  /** The group generation (classic) or member epoch (consumer protocol) it last reported. */
  groupGeneration: number | null = null;
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
  /**
   * Partitions paused after a handler failure: why, and the offset of the
   * message they stopped at. A partition stays paused across the worker's
   * retries of that message, until a report shows it processed (it
   * succeeded or was dead-lettered) or the partition leaves the assignment.
   */
  readonly paused = new Map<number, { reason: string; offset: string | null }>();
  /** Set when the worker threw, crashed fatally or stopped itself. */
  dead: string | null = null;
  /** Whether its drain leaves the group (false on a shutdown: a static member stays). */
  leaving = true;
  #worker: Worker;
  #stopped: Promise<void>;
  #draining: Promise<boolean> | null = null;
  #resolveStopped!: () => void;
  #log: Logger;
  #now: () => number;

  constructor(options: WorkerHandleOptions) {
    const { consumer, replica, runtime, now } = options;
    this.consumer = consumer;
    this.kafka = options.kafka;
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
        this.problem = null;
        this.assigned = message.partitions;
        this.assignedGeneration = message.generation;
        this.memberId = message.memberId ?? this.memberId;
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
      case "membership":
        this.memberId = message.memberId;
        this.groupGeneration = message.generation;
        break;
      case "offsets":
        for (const p of message.partitions) {
          this.progress.set(p.partition, p);
          const paused = this.paused.get(p.partition);
          if (paused && pastOffset(p.processed, paused.offset)) this.paused.delete(p.partition);
        }
        break;
      case "error":
        this.lastError = message.error;
        // What keeps it from connecting, or from joining its group (its instance id is held).
        if (
          !message.fatal && message.error.retriable &&
          (this.state === "starting" || this.assignedGeneration === 0)
        ) {
          this.problem = message.error;
        }
        if (message.partition !== undefined) {
          this.paused.set(message.partition, {
            reason: `handler failed after retries: ${message.error.message}`,
            offset: message.offset ?? null,
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

  /**
   * Asks the worker to drain; resolves when it reports `stopped` or the
   * deadline passes. `leave: false` (daemon shutdown) keeps a static member
   * in its group, for the daemon's next run.
   */
  drain(deadlineMs: number, { leave = true }: { leave?: boolean } = {}): Promise<boolean> {
    // A worker is stopped once: a second caller (shutdown during a reload's drain) shares it.
    if (this.#draining === null) this.leaving = leave;
    this.#draining ??= this.#drain(deadlineMs, leave);
    return this.#draining;
  }

  async #drain(deadlineMs: number, leave: boolean): Promise<boolean> {
    if (ORDER[this.state] >= ORDER.stopped) return true;
    this.advance("draining");
    this.#worker.postMessage({ v: PROTOCOL_VERSION, type: "stop", deadlineMs, leave });
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

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

/**
 * How a drain ended: the worker reported `stopped` (cleanly, or `failed`
 * with an error; `failed` too when it reported a fatal error while it
 * drained, e.g. its final commit refused), it was `gone` without a word (it
 * threw outside its handler, closed itself, or went silent: nothing would
 * report any more), or it was still draining at the deadline (`late`,
 * terminated).
 */
export type DrainEnd = "stopped" | "failed" | "gone" | "late";

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
  /** A draining worker silent this long is gone (the control pass's limit while it runs); default 10 s. */
  heartbeatTimeoutMs?: number;
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
  #draining: Promise<DrainEnd> | null = null;
  #resolveStopped!: () => void;
  /** Resolves with why, once the worker is gone without reporting `stopped`. */
  #gone: Promise<string>;
  /** The worker reported a fatal error while it drained (e.g. its final commit was refused). */
  #failedDraining = false;
  #resolveGone!: (reason: string) => void;
  #heartbeatTimeoutMs: number;
  #heartbeatIntervalMs: number;
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
    this.#gone = new Promise((r) => (this.#resolveGone = r));
    this.#heartbeatTimeoutMs = options.heartbeatTimeoutMs ?? 10_000;
    this.#heartbeatIntervalMs = options.heartbeatIntervalMs;
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
    // Bun: a worker that ended (an uncaught error, process.exit()) says so; Deno's do not.
    this.#worker.addEventListener("close", () => this.#die("the worker ended"));
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
        if (message.fatal) {
          // While a loaded worker drains, a fatal error is the drain failing (its final commit
          // refused); one still loading (its import or setup() failed) had nothing to drain.
          if (this.state === "draining" && this.loaded) this.#failedDraining = true;
          this.#die(`fatal error: ${message.error.message}`);
        }
        break;
      case "closed":
        this.#die("the worker closed itself");
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

  /**
   * The worker is gone without reporting `stopped`. While it runs the control
   * pass terminates and restarts it; a drain ends at once (nothing would
   * report any more).
   */
  #die(reason: string): void {
    if (ORDER[this.state] >= ORDER.stopped) return;
    this.#resolveGone(reason);
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
   * Asks the worker to drain; resolves when it reports `stopped`, when it is
   * gone (it died before or during the drain, or went silent for the
   * heartbeat timeout), or when the deadline passes. `leave: false` (daemon
   * shutdown) keeps a static member in its group, for the daemon's next run.
   */
  drain(deadlineMs: number, { leave = true }: { leave?: boolean } = {}): Promise<DrainEnd> {
    // A worker is stopped once: a second caller (shutdown during a reload's drain) shares it.
    if (this.#draining === null) this.leaving = leave;
    this.#draining ??= this.#drain(deadlineMs, leave);
    return this.#draining;
  }

  async #drain(deadlineMs: number, leave: boolean): Promise<DrainEnd> {
    if (ORDER[this.state] >= ORDER.stopped) return this.state === "stopped" ? "stopped" : "failed";
    this.advance("draining");
    this.#worker.postMessage({ v: PROTOCOL_VERSION, type: "stop", deadlineMs, leave });
    let deadline: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<"late">((r) =>
      deadline = setTimeout(() => r("late"), Math.max(0, deadlineMs - Date.now()) + 250)
    );
    // A draining worker heartbeats until it stops: a loaded one silent as long as the control
    // pass allows a running one is gone too (Deno tells nothing of a worker that ended by other
    // means than close(), e.g. Deno.exit()). One still loading holds nothing to drain.
    let watch: ReturnType<typeof setInterval> | undefined;
    const silent = new Promise<string>((r) => {
      watch = setInterval(() => {
        const ms = Math.round(this.#now() - this.lastHeartbeat);
        if (this.loaded && ms > this.#heartbeatTimeoutMs) r(`no heartbeat for ${ms} ms`);
      }, this.#heartbeatIntervalMs);
    });
    // A worker that died before the drain (the control pass had not seen it yet) is gone at once.
    const end = await Promise.race([
      this.#stopped.then(() => "stopped" as const),
      this.#gone,
      silent,
      late,
    ]);
    clearTimeout(deadline);
    clearInterval(watch);
    if (end === "late") {
      this.terminate("did not drain before the deadline");
      return "late";
    }
    if (end !== "stopped") {
      this.terminate(`gone while draining: ${end}`);
      return this.#failedDraining ? "failed" : "gone";
    }
    return this.state === "stopped" ? "stopped" : "failed";
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

/**
 * A consumer's status, aggregated from what its workers reported. Pure.
 *
 * @module
 */
import type { ConsumerConfig, KafkaConfig } from "../config/types.ts";
import {
  type DispatchState,
  type ErrorData,
  errorText,
  HANDLER_DURATION_BUCKETS,
  type HistogramCounts,
  type PartitionProgress,
  type StartReason,
  TRANSACTION_DURATION_BUCKETS,
  type WorkerStats,
} from "../protocol.ts";
import type { ConsumerSnapshot } from "./fingerprint.ts";
import type { WorkerState } from "./worker_handle.ts";

/**
 * What `check --diff` compares a file with: the fingerprints of the running
 * definition (without replicas) and handler module, and the replica count.
 */
export type DefinitionFingerprint = Omit<ConsumerSnapshot, "name">;

/** One partition's progress and lag (high watermark − committed). */
export type PartitionStatus = PartitionProgress & { lag: string | null };

/**
 * A consumer's state:
 * - `starting`: workers are loading the handler and connecting;
 * - `waiting`: blocked by something outside the daemon (a missing topic, unreachable brokers,
 *   a handler edited after its reload checked it);
 * - `joining`: connected, waiting for the partition assignment and its start positions;
 * - `running`: every replica holds its assignment and reads it (ready);
 * - `stalled`: running, but every partition it holds is paused after a handler failure (a
 *   poison message without a dead-letter topic, a permission the handler lacks): it holds its
 *   partitions and tries the message again, so it is ready, but it needs a person;
 * - `failed`: a worker died and waits for its restart;
 * - `failing`: restarted too often lately;
 * - `draining`, `stopped`: shutting down, down.
 */
export type ConsumerState =
  | "starting"
  | "waiting"
  | "joining"
  | "running"
  | "stalled"
  | "failed"
  | "failing"
  | "draining"
  | "stopped";

/** A balanced consumer's group protocol. */
export type GroupProtocol = KafkaConfig["groupProtocol"];

/** A partition that does not advance, and why. */
export interface PausedPartition {
  partition: number;
  reason: string;
}

/** Who one replica's worker is in its group (balanced mode). */
export interface MemberStatus {
  replica: number;
  /** The group member id, once it joined. */
  memberId: string | null;
  /** Its group.instance.id (static membership), or null. */
  instanceId: string | null;
  /** The group generation (classic protocol) or member epoch (consumer protocol), once joined. */
  generation: number | null;
}

/** A consumer's state as reported by status. */
export interface ConsumerStatus {
  name: string;
  group: string;
  topic: string;
  mode: string;
  /** The group protocol of balanced mode (classic or consumer); null in simple mode. */
  groupProtocol: GroupProtocol | null;
  /** Balanced mode: each live worker's membership, by replica. */
  members: MemberStatus[];
  state: ConsumerState;
  /** Why the consumer is not `running`, in the operator's terms; null when running. */
  reason: string | null;
  /** Whether it counts as ready (`/readyz`). */
  ready: boolean;
  replicas: number;
  /** Replicas with a live worker. */
  workersUp: number;
  restarts: number;
  lastError: string | null;
  /** Partitions started away from their committed offset, by reason. */
  resets: Record<StartReason, number>;
  /** Messages copied to the dead-letter topic. */
  deadLettered: number;
  /** Messages whose handler failed every attempt (dead-lettered or not). */
  handlerErrors: number;
  partitions: PartitionStatus[];
  paused: PausedPartition[];
  /**
   * `ordering: key` and `none`, over the consumer's workers: handler calls
   * in flight, messages fetched and not finished, and the keys paused after
   * their retries were spent (the count, and a few of them); null with
   * `ordering: partition`.
   */
  dispatch: DispatchState | null;
  /** The running definition's fingerprint; null before the daemon has computed it. */
  fingerprint: DefinitionFingerprint | null;
}

/** What status needs of a live worker. */
export interface WorkerView {
  /** Its replica (default: its place among the workers). */
  replica?: number;
  /** Who it is in its group (balanced mode; default: not known). */
  member?: Omit<MemberStatus, "replica">;
  state: WorkerState;
  assigned: readonly number[];
  progress: ReadonlyMap<number, PartitionProgress>;
  lastError: ErrorData | null;
  /** What keeps it from connecting (a missing topic, unreachable brokers), or null. */
  problem?: ErrorData | null;
  /** Joined, holding an assignment whose start positions are committed. Default true. */
  holdsAssignment?: boolean;
  /** What it has in hand, with `ordering: key` or `none` (null or absent otherwise). */
  dispatch?: DispatchState | null;
}

/** A replica without a live worker (it died and waits for its restart, or is held). */
export interface DownReplica {
  replica: number;
  reason: string;
  /** Not started on purpose (its handler is not the checked version): `waiting`, not `failed`. */
  held?: boolean;
  /** Not restarted (another member holds its instance id): `failed`, and no restart is coming. */
  parked?: boolean;
}

/** Inputs of {@linkcode consumerStatus} besides the consumer. */
export interface ConsumerStatusInput {
  workers: readonly WorkerView[];
  restarts: number;
  /** Restarted too often lately. */
  failing: boolean;
  counters: { resets: Record<StartReason, number>; deadLettered: number; handlerErrors: number };
  /** Replicas configured; default: the number of workers. */
  replicas?: number;
  down?: readonly DownReplica[];
  paused?: readonly PausedPartition[];
  /** The running definition's fingerprint (default null). */
  fingerprint?: DefinitionFingerprint | null;
  /** The group protocol of balanced mode (default classic). */
  groupProtocol?: GroupProtocol;
}

/**
 * Aggregates a consumer's workers: partitions they hold with their progress
 * and lag, one state with its reason, the last error.
 *
 * @example
 * ```ts
 * consumerStatus(consumer, { workers, restarts: 0, failing: false, counters });
 * ```
 */
export function consumerStatus(
  consumer: Pick<ConsumerConfig, "name" | "group" | "topic" | "mode">,
  input: ConsumerStatusInput,
): ConsumerStatus {
  const { workers, restarts, failing, counters, down = [], paused = [], fingerprint = null } =
    input;
  const partitions = workers.flatMap((w) =>
    w.assigned.map((partition) =>
      w.progress.get(partition) ??
        { partition, processed: null, committed: null, highWatermark: null }
    )
  )
    .sort((a, b) => a.partition - b.partition)
    .map((p) => ({ ...p, lag: lag(p) }));
  const held = new Set(partitions.map((p) => p.partition));
  const heldPaused = paused.filter((p) => held.has(p.partition));
  const lastErrorData = workers.map((w) => w.lastError).find((e) => e !== null && e !== undefined);
  const lastError = lastErrorData ? errorText(lastErrorData) : null;
  const { state, reason } = stalledOrAsIs(
    decideState(workers, { failing, down, lastError }),
    held,
    heldPaused,
  );
  const balanced = consumer.mode === "balanced";
  return {
    name: consumer.name,
    group: consumer.group,
    topic: consumer.topic,
    mode: consumer.mode,
    groupProtocol: balanced ? input.groupProtocol ?? "classic" : null,
    members: balanced
      ? workers.map((w, i) => ({
        replica: w.replica ?? i,
        memberId: w.member?.memberId ?? null,
        instanceId: w.member?.instanceId ?? null,
        generation: w.member?.generation ?? null,
      }))
      : [],
    state,
    reason,
    ready: state === "running" || state === "stalled",
    replicas: input.replicas ?? workers.length + down.length,
    workersUp: workers.filter((w) => w.state === "starting" || w.state === "running").length,
    restarts,
    lastError: lastError ?? down[0]?.reason ?? null,
    resets: { ...counters.resets },
    deadLettered: counters.deadLettered,
    handlerErrors: counters.handlerErrors,
    partitions,
    paused: heldPaused,
    dispatch: sumDispatch(workers),
    fingerprint,
  };
}

/** How many paused keys a consumer's status lists (it counts them all). */
const PAUSED_KEYS_SHOWN = 10;

/** The workers' dispatch states added up, or null when none reported one. */
function sumDispatch(workers: readonly WorkerView[]): DispatchState | null {
  const states = workers.flatMap((w) => w.dispatch ? [w.dispatch] : []);
  if (states.length === 0) return null;
  return {
    inFlight: states.reduce((n, s) => n + s.inFlight, 0),
    buffered: states.reduce((n, s) => n + s.buffered, 0),
    pausedKeys: states.reduce((n, s) => n + s.pausedKeys, 0),
    paused: states.flatMap((s) => s.paused).slice(0, PAUSED_KEYS_SHOWN),
  };
}

function decideState(
  workers: readonly WorkerView[],
  { failing, down, lastError }: {
    failing: boolean;
    down: readonly DownReplica[];
    lastError: string | null;
  },
): { state: ConsumerState; reason: string | null } {
  const states = workers.map((w) => w.state);
  const problem = workers.map((w) => w.problem).find((p) => p !== null && p !== undefined);
  if (failing) {
    const why = down[0]?.reason ?? lastError ?? "its workers keep failing";
    return { state: "failing", reason: `restarted too often lately: ${why}` };
  }
  const failed = down.find((d) => !d.held);
  if (failed !== undefined) {
    return {
      state: "failed",
      reason: failed.parked ? `${failed.reason}; not restarted` : `${failed.reason}; restarting`,
    };
  }
  if (down.length > 0) return { state: "waiting", reason: down[0]!.reason };
  if (states.includes("draining")) return { state: "draining", reason: "shutting down" };
  if (states.length > 0 && states.every((s) => s === "stopped" || s === "failed")) {
    return { state: "stopped", reason: "stopped" };
  }
  if (problem) return { state: "waiting", reason: problem.message };
  if (states.length > 0 && states.every((s) => s === "running")) {
    const waiting = workers.filter((w) => w.holdsAssignment === false).length;
    if (waiting === 0) return { state: "running", reason: null };
    return {
      state: "joining",
      reason: `${waiting} of ${workers.length} workers wait for their partition assignment ` +
        "and its start positions",
    };
  }
  return { state: "starting", reason: "loading the handler and connecting to Kafka" };
}

/**
 * A running consumer whose every held partition is paused is `stalled`,
 * with each partition's reason; any other state stays as it is.
 */
function stalledOrAsIs(
  decided: { state: ConsumerState; reason: string | null },
  held: ReadonlySet<number>,
  paused: readonly PausedPartition[],
): { state: ConsumerState; reason: string | null } {
  const pausedSet = new Set(paused.map((p) => p.partition));
  if (decided.state !== "running" || held.size === 0 || [...held].some((p) => !pausedSet.has(p))) {
    return decided;
  }
  const why = [...paused].sort((a, b) => a.partition - b.partition)
    .map((p) => `${p.partition}: ${p.reason}`).join("; ");
  return { state: "stalled", reason: `every partition it holds is paused — ${why}` };
}

/** High watermark − committed offset, or null while either is unknown. */
export function lag(p: PartitionProgress): string | null {
  // A negative committed offset is a placeholder (kafkajs commits -2 after an out-of-range
  // offset): the position it stands for is not known, so neither is the lag.
  if (p.highWatermark === null || p.committed === null || p.committed.startsWith("-")) return null;
  const value = BigInt(p.highWatermark) - BigInt(p.committed);
  return String(value < 0n ? 0n : value);
}

/** Counters of nothing yet. */
export function emptyStats(): WorkerStats {
  return {
    processed: 0,
    handlerErrors: 0,
    retries: 0,
    rebalances: 0,
    finishedBefore: 0,
    metadataDropped: 0,
    duration: emptyHistogram(HANDLER_DURATION_BUCKETS),
    produced: {},
    transactions: {
      committed: 0,
      aborted: 0,
      duration: emptyHistogram(TRANSACTION_DURATION_BUCKETS),
    },
  };
}

function emptyHistogram(bounds: readonly number[]): HistogramCounts {
  return { buckets: new Array(bounds.length + 1).fill(0), sum: 0, count: 0 };
}

function addHistograms(a: HistogramCounts, b: HistogramCounts): HistogramCounts {
  return {
    buckets: a.buckets.map((n, i) => n + (b.buckets[i] ?? 0)),
    sum: a.sum + b.sum,
    count: a.count + b.count,
  };
}

function addProduced(
  a: WorkerStats["produced"],
  b: WorkerStats["produced"],
): WorkerStats["produced"] {
  const sum: WorkerStats["produced"] = { ...a };
  for (const [topic, counts] of Object.entries(b)) {
    const before = sum[topic];
    sum[topic] = before === undefined ? { ...counts } : {
      messages: before.messages + counts.messages,
      bytes: before.bytes + counts.bytes,
      errors: before.errors + counts.errors,
    };
  }
  return sum;
}

/** Adds worker stats together (a consumer's replicas, or a dead worker's last report). */
export function addStats(a: WorkerStats, b: WorkerStats): WorkerStats {
  return {
    processed: a.processed + b.processed,
    handlerErrors: a.handlerErrors + b.handlerErrors,
    retries: a.retries + b.retries,
    rebalances: a.rebalances + b.rebalances,
    finishedBefore: a.finishedBefore + b.finishedBefore,
    metadataDropped: a.metadataDropped + b.metadataDropped,
    duration: addHistograms(a.duration, b.duration),
    produced: addProduced(a.produced, b.produced),
    transactions: {
      committed: a.transactions.committed + b.transactions.committed,
      aborted: a.transactions.aborted + b.transactions.aborted,
      duration: addHistograms(a.transactions.duration, b.transactions.duration),
    },
  };
}

/**
 * A consumer's status, aggregated from what its workers reported. Pure.
 *
 * @module
 */
import type { ConsumerConfig } from "../config/types.ts";
import type { ErrorData, PartitionProgress, StartReason } from "../protocol.ts";
import type { ConsumerSnapshot } from "./fingerprint.ts";
import type { WorkerState } from "./worker_handle.ts";

/**
 * What `check --diff` compares a file with: the fingerprints of the running
 * definition (without replicas) and handler module, and the replica count.
 */
export type DefinitionFingerprint = Omit<ConsumerSnapshot, "name">;

/** One partition's progress and lag (high watermark − committed). */
export type PartitionStatus = PartitionProgress & { lag: string | null };

/** A consumer's state as reported by status. */
export interface ConsumerStatus {
  name: string;
  group: string;
  topic: string;
  mode: string;
  state: "starting" | "running" | "failing" | "draining" | "stopped";
  restarts: number;
  lastError: string | null;
  /** Partitions started away from their committed offset, by reason. */
  resets: Record<StartReason, number>;
  /** Messages copied to the dead-letter topic. */
  deadLettered: number;
  /** Messages whose handler failed every attempt (dead-lettered or not). */
  handlerErrors: number;
  partitions: PartitionStatus[];
  /** The running definition's fingerprint; null before the daemon has computed it. */
  fingerprint: DefinitionFingerprint | null;
}

/** What status needs of a live worker. */
export interface WorkerView {
  state: WorkerState;
  assigned: readonly number[];
  progress: ReadonlyMap<number, PartitionProgress>;
  lastError: ErrorData | null;
}

/** Inputs of {@linkcode consumerStatus} besides the consumer. */
export interface ConsumerStatusInput {
  workers: readonly WorkerView[];
  restarts: number;
  /** Restarted too often lately. */
  failing: boolean;
  counters: { resets: Record<StartReason, number>; deadLettered: number; handlerErrors: number };
  /** The running definition's fingerprint (default null). */
  fingerprint?: DefinitionFingerprint | null;
}

/**
 * Aggregates a consumer's workers: partitions they hold with their progress
 * and lag, one state, the last error.
 *
 * @example
 * ```ts
 * consumerStatus(consumer, { workers, restarts: 0, failing: false, counters });
 * ```
 */
export function consumerStatus(
  consumer: Pick<ConsumerConfig, "name" | "group" | "topic" | "mode">,
  { workers, restarts, failing, counters, fingerprint = null }: ConsumerStatusInput,
): ConsumerStatus {
  const partitions = workers.flatMap((w) =>
    [...w.progress.values()].filter((p) => w.assigned.includes(p.partition))
  )
    .sort((a, b) => a.partition - b.partition)
    .map((p) => ({ ...p, lag: lag(p) }));
  const states = workers.map((w) => w.state);
  const state: ConsumerStatus["state"] = failing
    ? "failing"
    : states.includes("draining")
    ? "draining"
    : states.length > 0 && states.every((s) => s === "running")
    ? "running"
    : states.length > 0 && states.every((s) => s === "stopped" || s === "failed")
    ? "stopped"
    : "starting";
  const lastError = workers.map((w) => w.lastError).find((e) => e !== null);
  return {
    name: consumer.name,
    group: consumer.group,
    topic: consumer.topic,
    mode: consumer.mode,
    state,
    restarts,
    lastError: lastError ? `${lastError.name}: ${lastError.message}` : null,
    resets: { ...counters.resets },
    deadLettered: counters.deadLettered,
    handlerErrors: counters.handlerErrors,
    partitions,
    fingerprint,
  };
}

/** High watermark − committed offset, or null while either is unknown. */
function lag(p: PartitionProgress): string | null {
  if (p.highWatermark === null || p.committed === null) return null;
  const value = BigInt(p.highWatermark) - BigInt(p.committed);
  return String(value < 0n ? 0n : value);
}

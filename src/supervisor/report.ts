/**
 * A consumer's report: its status over its replicas' slots, with the
 * cumulative counters and per-replica liveness that `/metrics` exposes. Pure.
 *
 * @module
 */
import { groupInstanceId, groupProtocolOf } from "../config/membership.ts";
import type { ConsumerConfig, KafkaConfig } from "../config/types.ts";
import type { WorkerStats } from "../protocol.ts";
import type { ConsumerRun } from "./consumer_run.ts";
import type { Slot } from "./slots.ts";
import {
  addStats,
  type ConsumerStatus,
  consumerStatus,
  type DefinitionFingerprint,
  emptyStats,
} from "./status.ts";

/** A consumer's status with the counters that metrics expose. */
export interface ConsumerReport extends ConsumerStatus {
  /** Cumulative counters over every worker this consumer had, restarted ones included. */
  stats: WorkerStats;
  /** Per replica: whether a live worker runs it. */
  workers: Array<{ replica: number; up: boolean }>;
  /** `delivery: exactly-once`: its commits are transactions. */
  transactional: boolean;
}

/** The counters of a consumer that has no run. */
const NO_COUNTERS = {
  resets: { "committed": 0, "reset-on-start": 0, "no-committed-offset": 0, "out-of-range": 0 },
  deadLettered: 0,
  handlerErrors: 0,
  retired: emptyStats(),
};

/** What a report reads besides the consumer's slots and run. */
export interface ReportContext {
  /** Restarts within the failing window that mark a consumer as failing. */
  failingAfter: number;
  /** The daemon is shutting down: its workers are not down, they drain. */
  stopping: boolean;
  /** The running definition's fingerprint. */
  fingerprint: DefinitionFingerprint | null;
  /** The running config's `kafka:` (a consumer without slots reads it). */
  kafka: KafkaConfig;
}

/**
 * Reports a consumer from its slots and its run (none before its start,
 * and between the drain and the start of a restart).
 *
 * @example
 * ```ts ignore
 * consumerReport(consumer, slots.of(consumer.name), slots.run(consumer.name), context);
 * ```
 */
export function consumerReport(
  consumer: ConsumerConfig,
  slots: readonly Slot[],
  run: ConsumerRun | undefined,
  { failingAfter, stopping, fingerprint, kafka }: ReportContext,
): ConsumerReport {
  const counters = run ?? NO_COUNTERS;
  const handles = slots.flatMap((s) => (s.handle ? [s.handle] : []));
  const status = consumerStatus(consumer, {
    workers: handles.map((h) => ({
      replica: h.replica,
      member: {
        memberId: h.memberId,
        instanceId: groupInstanceId(consumer, h.kafka, h.replica),
        generation: h.groupGeneration,
      },
      state: h.state,
      assigned: h.assigned,
      progress: h.progress,
      lastError: h.lastError,
      problem: h.problem,
      holdsAssignment: h.holdsAssignment,
      dispatch: h.dispatch,
    })),
    restarts: slots.reduce((n, s) => n + s.restarts, 0),
    failing: slots.some((s) => s.recentRestarts.length >= failingAfter),
    counters,
    fingerprint,
    groupProtocol: groupProtocolOf(consumer, slots[0]?.kafka ?? kafka),
    replicas: consumer.replicas,
    down: slots.filter((s) => s.handle === null && (!s.queued || s.held !== null) && !stopping)
      .map((s) => ({
        replica: s.replica,
        reason: s.held ?? s.parked ?? s.lastFailure ?? "the worker ended",
        held: s.held !== null,
        parked: s.parked !== null,
      })),
    paused: handles.flatMap((h) =>
      [...h.paused].map(([partition, p]) => ({ partition, reason: p.reason }))
    ),
  });
  const stats = slots.reduce(
    (sum, s) => addStats(addStats(sum, s.retired), s.handle?.stats ?? emptyStats()),
    counters.retired,
  );
  const workers = slots.map((s) => ({
    replica: s.replica,
    up: s.handle !== null && (s.handle.state === "starting" || s.handle.state === "running"),
  }));
  return { ...status, stats, workers, transactional: consumer.delivery === "exactly-once" };
}

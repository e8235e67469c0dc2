/**
 * The bodies of `/status` (PRODUCT.md §7) and `/readyz`. Pure.
 *
 * @module
 */
import type { ConsumerState, ConsumerStatus } from "../supervisor/status.ts";
import type { ConsumerReport } from "../supervisor/report.ts";
import type { ConfigInfo } from "./config_info.ts";

/**
 * One consumer in `/status`: its {@linkcode ConsumerStatus}, with the count
 * of handled messages instead of failed calls (those are in `/metrics`).
 * Offsets are decimal strings (64-bit).
 */
export type ConsumerStatusBody = Omit<ConsumerStatus, "handlerErrors"> & { processed: number };

/** The `/status` document. */
export interface StatusBody {
  config: ConfigInfo;
  consumers: ConsumerStatusBody[];
}

/**
 * Builds the `/status` document.
 *
 * @example
 * ```ts
 * Response.json(statusBody(supervisor.report(), configInfo()));
 * ```
 */
export function statusBody(reports: readonly ConsumerReport[], config: ConfigInfo): StatusBody {
  return {
    config,
    consumers: reports.map((
      { stats, workers: _workers, handlerErrors: _handlerErrors, ...status },
    ) => ({
      ...status,
      processed: stats.processed,
      resets: { ...status.resets },
      // Field by field: partition progress comes from worker messages, which handler code can
      // send too, and /status must not carry what it adds.
      partitions: status.partitions.map((p) => ({
        partition: p.partition,
        committed: p.committed,
        processed: p.processed,
        highWatermark: p.highWatermark,
        lag: p.lag,
        ...(p.oldestUnfinished === undefined ? {} : { oldestUnfinished: p.oldestUnfinished }),
      })),
      paused: status.paused.map((p) => ({ partition: p.partition, reason: p.reason })),
      members: status.members.map((m) => ({
        replica: m.replica,
        memberId: m.memberId,
        instanceId: m.instanceId,
        generation: m.generation,
      })),
      dispatch: status.dispatch && {
        inFlight: status.dispatch.inFlight,
        buffered: status.dispatch.buffered,
        pausedKeys: status.dispatch.pausedKeys,
        paused: status.dispatch.paused.map((k) => ({
          partition: k.partition,
          key: k.key,
          offset: k.offset,
          reason: k.reason,
        })),
      },
    })),
  };
}

/** The `/readyz` document: ready, or which consumers are not and why; and which are stalled. */
export interface ReadinessBody {
  ready: boolean;
  notReady: Array<{ consumer: string; state: string; reason: string }>;
  /**
   * Consumers that count as ready but whose every partition is paused after
   * a handler failure: they need a person, not a restart or a new pod.
   */
  stalled: string[];
}

/**
 * The short reason `/readyz` gives without the token, by state: the full
 * reason can carry a handler's exception text, file paths and broker
 * addresses, which a request without the token must not see.
 */
export const READINESS_CODES: Readonly<Record<ConsumerState, string>> = {
  starting: "starting",
  waiting: "waiting-for-kafka",
  joining: "joining",
  running: "running",
  stalled: "stalled",
  failed: "worker-failed",
  failing: "restarting-too-often",
  draining: "draining",
  stopped: "stopped",
};

/**
 * Readiness: every consumer has joined and holds its assignment with its
 * start positions committed (a `stalled` one too: it holds its partitions,
 * and a restart would not help it). A daemon with no consumers is ready. With
 * `detail`, each reason is the operator's full text (as `/status` has it);
 * without, the short code of {@linkcode READINESS_CODES}.
 *
 * @example
 * ```ts
 * readiness(supervisor.report(), { detail: false }).notReady[0]?.reason; // "worker-failed"
 * ```
 */
export function readiness(
  reports: readonly ConsumerReport[],
  { detail }: { detail: boolean },
): ReadinessBody {
  const notReady = reports.filter((r) => !r.ready).map((r) => ({
    consumer: r.name,
    state: r.state,
    reason: detail ? r.reason ?? r.state : READINESS_CODES[r.state],
  }));
  const stalled = reports.filter((r) => r.state === "stalled").map((r) => r.name);
  return { ready: notReady.length === 0, notReady, stalled };
}

/**
 * The bodies of `/status` (PRODUCT.md §7) and `/readyz`. Pure.
 *
 * @module
 */
import type { ConsumerReport } from "../supervisor/supervisor.ts";
import type { ConfigInfo } from "./config_info.ts";

/** One consumer in `/status`. Offsets are decimal strings (64-bit). */
export interface ConsumerStatusBody {
  name: string;
  group: string;
  topic: string;
  mode: string;
  state: string;
  /** Why the consumer is not running, in the operator's terms; null when running. */
  reason: string | null;
  ready: boolean;
  replicas: number;
  workersUp: number;
  restarts: number;
  lastError: string | null;
  processed: number;
  deadLettered: number;
  resets: Record<string, number>;
  partitions: Array<{
    partition: number;
    committed: string | null;
    processed: string | null;
    highWatermark: string | null;
    lag: string | null;
  }>;
  paused: Array<{ partition: number; reason: string }>;
  /** The running definition's fingerprint (for `check --diff`); null before it is computed. */
  fingerprint: ConsumerReport["fingerprint"];
}

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
    consumers: reports.map((r) => ({
      name: r.name,
      group: r.group,
      topic: r.topic,
      mode: r.mode,
      state: r.state,
      reason: r.reason,
      ready: r.ready,
      replicas: r.replicas,
      workersUp: r.workersUp,
      restarts: r.restarts,
      lastError: r.lastError,
      processed: r.stats.processed,
      deadLettered: r.deadLettered,
      resets: { ...r.resets },
      partitions: r.partitions.map((p) => ({
        partition: p.partition,
        committed: p.committed,
        processed: p.processed,
        highWatermark: p.highWatermark,
        lag: p.lag,
      })),
      paused: r.paused.map((p) => ({ ...p })),
      fingerprint: r.fingerprint,
    })),
  };
}

/** The `/readyz` document: ready, or which consumers are not and why. */
export interface ReadinessBody {
  ready: boolean;
  notReady: Array<{ consumer: string; state: string; reason: string }>;
}

/**
 * Readiness: every consumer has joined and holds its assignment with its
 * start positions committed. A daemon with no consumers is ready.
 */
export function readiness(reports: readonly ConsumerReport[]): ReadinessBody {
  const notReady = reports.filter((r) => !r.ready).map((r) => ({
    consumer: r.name,
    state: r.state,
    reason: r.reason ?? r.state,
  }));
  return { ready: notReady.length === 0, notReady };
}

/**
 * The timings of a balanced consumer's group membership, shared by both
 * engines. Pure.
 *
 * @module
 */
import type { KafkaConfig } from "../config/types.ts";

/** How often a member heartbeats at most, ms. */
const HEARTBEAT_MS = 3_000;

/** Session, rebalance and heartbeat timings of a group member, ms. */
export interface GroupTiming {
  /** How long the group waits for a silent member (`kafka.sessionTimeoutMs`; classic protocol). */
  sessionTimeoutMs: number;
  /**
   * How long a rebalance waits for the member to rejoin (classic protocol):
   * {@linkcode memberRebalanceTimeoutMs}, and never shorter than the session
   * timeout (@platformatic/kafka refuses a consumer whose rebalance timeout
   * is). The consumer protocol sends {@linkcode memberRebalanceTimeoutMs}
   * alone.
   */
  rebalanceTimeoutMs: number;
  /** A third of the session timeout, 3 s at most (classic protocol). */
  heartbeatIntervalMs: number;
}

/**
 * The group timings of a consumer whose handler calls may run `maxHandlerMs`.
 *
 * @example
 * ```ts
 * groupTiming({ sessionTimeoutMs: 6000 }, 300_000);
 * // { sessionTimeoutMs: 6000, rebalanceTimeoutMs: 300000, heartbeatIntervalMs: 2000 }
 * ```
 */
export function groupTiming(
  kafka: Pick<KafkaConfig, "sessionTimeoutMs">,
  maxHandlerMs: number,
): GroupTiming {
  return {
    sessionTimeoutMs: kafka.sessionTimeoutMs,
    rebalanceTimeoutMs: Math.max(memberRebalanceTimeoutMs(maxHandlerMs), kafka.sessionTimeoutMs),
    heartbeatIntervalMs: Math.min(HEARTBEAT_MS, Math.floor(kafka.sessionTimeoutMs / 3)),
  };
}

/**
 * The rebalance timeout of a member whose handler calls may run
 * `maxHandlerMs`: as long as a call may run (Java's max.poll.interval.ms),
 * so that the call in progress finishes and is committed before the member
 * rejoins (classic) or releases partitions it must give up (consumer
 * protocol), and 60 s at least. The consumer protocol (KIP-848) sends it
 * as it is: the broker's own `group.consumer.session.timeout.ms` applies
 * there, and `kafka.sessionTimeoutMs` is not sent.
 *
 * @example
 * ```ts
 * memberRebalanceTimeoutMs(5_000); // 60000
 * ```
 */
export function memberRebalanceTimeoutMs(maxHandlerMs: number): number {
  return Math.max(60_000, maxHandlerMs);
}

/**
 * Removing the group members of workers that died or did not drain in time,
 * so that their partitions move now instead of after the session timeout;
 * shutdown waits for the removals under way.
 *
 * @module
 */
import type { ConsumerConfig, KafkaConfig } from "../config/types.ts";
import { errorFields, type Logger } from "../log.ts";
import { engineOf, groupInstanceId, groupProtocolOf } from "../config/membership.ts";
import { evictGroupMember } from "../kafka/evict.ts";
import { backoffDelay } from "../backoff.ts";

/** How long removing a dead worker's member is retried: the session timeout, after which Kafka drops it anyway. */
const EVICT_WINDOW_MS = 30_000;
/** How long shutdown waits past its deadline to remove the members of workers that did not drain. */
const EVICT_AFTER_DEADLINE_MS = 2_000;

/** Options for {@linkcode Evictions}. */
export interface EvictionsOptions {
  logger: Logger;
  /** Whether the daemon is shutting down: a removal that fails then is not retried. */
  stopping: () => boolean;
}

/**
 * Group member removals, retried with backoff within the session timeout.
 *
 * @example
 * ```ts ignore
 * const evictions = new Evictions({ logger, stopping: () => false });
 * evictions.evict(consumer, kafka, memberId, { replica: 0, leave: true });
 * await evictions.settle(Date.now() + 1_000);
 * ```
 */
export class Evictions {
  readonly #options: EvictionsOptions;
  /** Removals under way (awaited before the daemon exits). */
  readonly #pending = new Set<Promise<void>>();

  constructor(options: EvictionsOptions) {
    this.#options = options;
  }

  /**
   * Takes the member of replica `replica`'s dead worker out of its group,
   * so its partitions move now, not after the session timeout. A static
   * member whose replacement comes (`leave: false`: the worker restarts, or
   * the daemon stops) is not removed: under the classic protocol its
   * replacement takes its instance id over by itself; under the consumer
   * protocol it leaves for a while, holding its partitions for the
   * replacement, which could not join with its instance id before.
   */
  evict(
    consumer: ConsumerConfig,
    kafka: KafkaConfig,
    memberId: string,
    { replica, leave }: { replica: number; leave: boolean },
  ): void {
    const { logger, stopping } = this.#options;
    const instanceId = groupInstanceId(consumer, kafka, replica);
    const protocol = groupProtocolOf(consumer, kafka);
    const fields = { consumer: consumer.name, memberId, ...(instanceId ? { instanceId } : {}) };
    if (instanceId !== null && !leave && protocol === "classic") {
      logger.info(
        "dead worker's static member stays: its replacement takes its partitions",
        fields,
      );
      return;
    }
    const held = instanceId !== null && !leave;
    const member = { group: consumer.group, memberId, instanceId, protocol, leave, logger };
    const eviction = (async () => {
      const since = performance.now();
      for (let attempt = 1;; attempt++) {
        try {
          await evictGroupMember(kafka, engineOf(consumer, kafka), member);
          logger.info(
            held
              ? "dead worker's static member left for a while: its partitions wait for its replacement"
              : "dead worker's group member removed",
            fields,
          );
          return;
        } catch (error) {
          // Past the session timeout the broker has dropped the member itself.
          const delay = backoffDelay(attempt, { baseMs: 500, maxMs: 5_000, jitter: 0.2 });
          if (stopping() || performance.now() - since + delay > EVICT_WINDOW_MS) {
            logger.warn(
              "cannot remove the dead worker's group member; the group waits for its session timeout",
              { ...fields, attempts: attempt, ...errorFields(error) },
            );
            return;
          }
          await new Promise((r) => setTimeout(r, delay));
        }
      }
    })();
    this.#pending.add(eviction);
    eviction.finally(() => this.#pending.delete(eviction));
  }

  /**
   * Waits for the removals under way (members that could not leave by
   * themselves are removed before the daemon exits): until `deadline`
   * (epoch ms), or 2 s when less time is left.
   */
  async settle(deadline: number): Promise<void> {
    if (this.#pending.size === 0) return;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const waitMs = Math.max(deadline - Date.now(), EVICT_AFTER_DEADLINE_MS);
    await Promise.race([
      Promise.all([...this.#pending]),
      new Promise((r) => (timer = setTimeout(r, waitMs))),
    ]);
    clearTimeout(timer);
  }
}

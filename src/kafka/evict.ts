/**
 * Evicting a dead worker's group member, with the engine its consumer reads with.
 *
 * Each engine's client library is imported at the first eviction, not with
 * the supervisor: the daemon's own isolate does not load kafkajs or
 * @platformatic/kafka at start (about 110 ms before the first worker could
 * start; `tests/unit/cli/daemon_graph_test.ts`).
 *
 * @module
 */
import type { Engine, KafkaConfig } from "../config/types.ts";
import type { Logger } from "../log.ts";

/**
 * Removes a member from its group on its behalf — its worker died without
 * leaving — so that the group rebalances now instead of after the session
 * timeout. The kafkajs engine sends a LeaveGroup through kafkajs; the
 * platformatic engine uses @platformatic/kafka's `removeMembersFromConsumerGroup`.
 */
export async function evictGroupMember(
  kafka: KafkaConfig,
  engine: Engine,
  options: { group: string; memberId: string; logger: Logger },
): Promise<void> {
  if (engine === "platformatic") {
    const { evictMember } = await import("./platformatic/evict.ts");
    await evictMember(kafka, options);
  } else {
    const { evictGroupMember } = await import("./kafkajs/topic_client.ts");
    await evictGroupMember(kafka, options);
  }
}

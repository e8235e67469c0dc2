/**
 * Evicting a dead worker's group member, with the engine its consumer reads with.
 *
 * @module
 */
import type { Engine, KafkaConfig } from "../config/types.ts";
import type { Logger } from "../log.ts";
import { evictMember } from "./platformatic/evict.ts";
import { evictGroupMember as evictWithKafkajs } from "./topic_client.ts";

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
  if (engine === "platformatic") await evictMember(kafka, options);
  else await evictWithKafkajs(kafka, options);
}

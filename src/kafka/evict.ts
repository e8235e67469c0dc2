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
import type { GroupProtocol } from "./session.ts";

/** A group member to take out of its group on its behalf. */
export interface EvictedMember {
  group: string;
  memberId: string;
  /** Its group.instance.id (a static member), or null. */
  instanceId: string | null;
  protocol: GroupProtocol;
  /**
   * Leave for good. False for a static member whose replacement comes:
   * under the consumer protocol it then leaves for a while, holding its
   * partitions for the replacement (under the classic protocol the caller
   * sends nothing: the replacement takes the instance id over by itself).
   */
  leave: boolean;
}

/**
 * Removes a member from its group on its behalf — its worker died without
 * leaving — so that the group rebalances now instead of after the session
 * timeout (or, for a static member, so that its replacement can take its
 * instance id at once). The kafkajs engine sends a LeaveGroup through
 * kafkajs (its members are dynamic and classic); the platformatic engine
 * its own LeaveGroup or ConsumerGroupHeartbeat.
 */
export async function evictGroupMember(
  kafka: KafkaConfig,
  engine: Engine,
  member: EvictedMember & { logger: Logger },
): Promise<void> {
  if (engine === "platformatic") {
    const { evictMember } = await import("./platformatic/evict.ts");
    await evictMember(kafka, member);
  } else {
    const { evictGroupMember } = await import("./kafkajs/topic_client.ts");
    await evictGroupMember(kafka, member);
  }
}

/**
 * Evicting a dead worker's group member with @platformatic/kafka's admin.
 *
 * @module
 */
import type { KafkaConfig } from "../../config/types.ts";
import { connectionOptions } from "./client.ts";
import { loadPlatformatic } from "./library.ts";

/**
 * Removes `memberId` from `group` (a LeaveGroup on its behalf), so that the
 * group rebalances now instead of after the member's session timeout.
 *
 * @example
 * ```ts ignore
 * await evictMember(config.kafka, { group: "orders", memberId });
 * ```
 */
export async function evictMember(
  kafka: KafkaConfig,
  { group, memberId }: { group: string; memberId: string },
): Promise<void> {
  const { Admin } = await loadPlatformatic();
  const admin = new Admin(connectionOptions(kafka, "supervisor"));
  try {
    await admin.removeMembersFromConsumerGroup({
      groupId: group,
      members: [{ memberId, reason: "its consumerd worker died" }],
    });
  } finally {
    await admin.close().catch(() => {});
  }
}

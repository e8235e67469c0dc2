/**
 * Taking a dead worker's member out of its group on its behalf, with
 * @platformatic/kafka's admin client and request codecs.
 *
 * @module
 */
import type { KafkaConfig } from "../../config/types.ts";
import type { EvictedMember } from "../evict.ts";
import { connectionOptions } from "./client.ts";
import { loadPlatformatic } from "./library.ts";

/** Leave for good (-1), or, for a static member, for a while (-2): see KIP-848. */
const LEAVE = -1;
const LEAVE_FOR_A_WHILE = -2;

type Api = (...args: unknown[]) => void;

/**
 * Removes the member: a LeaveGroup (classic protocol; with its instance id
 * when static), or a ConsumerGroupHeartbeat that leaves for it (consumer
 * protocol: for good, or — a static member whose replacement comes, with
 * `leave: false` — for a while, so that the replacement takes its
 * partitions back at once).
 *
 * @example
 * ```ts ignore
 * await evictMember(config.kafka, { group: "orders", memberId, instanceId: null, protocol: "classic", leave: true });
 * ```
 */
export async function evictMember(kafka: KafkaConfig, member: EvictedMember): Promise<void> {
  const { Admin, FindCoordinatorKeyTypes, kGetApi } = await loadPlatformatic();
  // The worker bundle's copy of the library has no admin client; the supervisor's is the package.
  if (typeof Admin?.prototype?.findCoordinator !== "function") {
    throw new Error(
      "Cannot evict a member: this @platformatic/kafka has no Admin.findCoordinator()",
    );
  }
  const admin = new Admin(connectionOptions(kafka, "supervisor"));
  try {
    const [coordinator] = await admin.findCoordinator({
      keys: [member.group],
      keyType: FindCoordinatorKeyTypes.GROUP,
    });
    const connection = await admin.connections.get({
      host: coordinator!.host,
      port: coordinator!.port,
    });
    const consumerProtocol = member.protocol === "consumer";
    const api = await new Promise<Api>((resolve, reject) =>
      (Reflect.get(admin, kGetApi) as Api).call(
        admin,
        consumerProtocol ? "ConsumerGroupHeartbeat" : "LeaveGroup",
        (error: unknown, found: Api) => error ? reject(error) : resolve(found),
      )
    );
    const reason = "its consumerd worker died";
    const args = consumerProtocol
      ? [
        member.group,
        member.memberId,
        member.leave || member.instanceId === null ? LEAVE : LEAVE_FOR_A_WHILE,
        member.instanceId,
        null,
        0,
        [],
        null,
        null,
        [],
      ]
      : [member.group, [{ memberId: member.memberId, groupInstanceId: member.instanceId, reason }]];
    await new Promise<void>((resolve, reject) =>
      api(connection, ...args, (error: unknown) => error ? reject(error) : resolve())
    );
  } finally {
    await admin.close().catch(() => {});
  }
}

/**
 * What the group coordinator says of a consumer-protocol (KIP-848) group:
 * ConsumerGroupDescribe, sent with @platformatic/kafka's request codec.
 * A classic group is refused (GROUP_ID_NOT_FOUND: "not a consumer group").
 *
 * @module
 */
import { Admin, consumerGroupDescribeV0, FindCoordinatorKeyTypes } from "@platformatic/kafka";
import { BROKERS } from "./kafka.ts";

/** One member, as the coordinator knows it. */
export interface ConsumerGroupMemberView {
  memberId: string;
  instanceId: string | null;
  memberEpoch: number;
  clientId: string;
  /** Partitions of the group's topic it holds. */
  assigned: number[];
  /** Partitions the coordinator means it to hold. */
  target: number[];
}

/** A consumer-protocol group. */
export interface ConsumerGroupView {
  state: string;
  groupEpoch: number;
  assignmentEpoch: number;
  assignor: string;
  members: ConsumerGroupMemberView[];
}

type Describe = (
  connection: unknown,
  groupIds: string[],
  includeAuthorizedOperations: boolean,
  callback: (error: unknown, response: { groups: RawGroup[] }) => void,
) => void;
interface RawGroup {
  groupState: string;
  groupEpoch: number;
  assignmentEpoch: number;
  assignorName: string;
  members: Array<{
    memberId: string;
    instanceId: string | null;
    memberEpoch: number;
    clientId: string;
    assignment: { topicPartitions: Array<{ partitions: number[] }> };
    targetAssignment: { topicPartitions: Array<{ partitions: number[] }> };
  }>;
}

/**
 * Describes `group` (a consumer-protocol group).
 *
 * @throws When the coordinator refuses: e.g. a classic group ("not a consumer group").
 */
export async function describeConsumerGroup(group: string): Promise<ConsumerGroupView> {
  const admin = new Admin({ clientId: "consumerd-test-describe", bootstrapBrokers: BROKERS });
  try {
    const [coordinator] = await admin.findCoordinator({
      keys: [group],
      keyType: FindCoordinatorKeyTypes.GROUP,
    });
    const connection = await admin.connections.get({
      host: coordinator!.host,
      port: coordinator!.port,
    });
    const describe = consumerGroupDescribeV0.api as unknown as Describe;
    const response = await new Promise<{ groups: RawGroup[] }>((resolve, reject) =>
      describe(connection, [group], false, (error, r) => error ? reject(error) : resolve(r))
    );
    const raw = response.groups[0]!;
    const partitions = (a: { topicPartitions: Array<{ partitions: number[] }> }) =>
      a.topicPartitions.flatMap((t) => t.partitions).sort((x, y) => x - y);
    return {
      state: raw.groupState,
      groupEpoch: raw.groupEpoch,
      assignmentEpoch: raw.assignmentEpoch,
      assignor: raw.assignorName,
      members: raw.members.map((m) => ({
        memberId: m.memberId,
        instanceId: m.instanceId,
        memberEpoch: m.memberEpoch,
        clientId: m.clientId,
        assigned: partitions(m.assignment),
        target: partitions(m.targetAssignment),
      })),
    };
  } finally {
    await admin.close();
  }
}

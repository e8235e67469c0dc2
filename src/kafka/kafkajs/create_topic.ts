/**
 * Creating a topic and waiting until every partition has a leader.
 *
 * kafkajs's own `waitForLeaders` retries only LEADER_NOT_AVAILABLE, but a
 * KRaft broker that has not yet applied the new topic's metadata record
 * answers UNKNOWN_TOPIC_OR_PARTITION for a moment after CreateTopics
 * returned (the topic exists, the caller was told it failed), and once its
 * metadata names a leader, that leader may still answer
 * NOT_LEADER_OR_FOLLOWER until it has loaded the partition. A topic counts
 * as ready when its metadata names a leader for every partition and every
 * leader answers a ListOffsets request.
 *
 * @module
 */
import type { Admin } from "kafkajs";

/** How long a new topic's leaders are waited for, unless told otherwise. */
export const LEADER_WAIT_MS = 30_000;

/** One partition of fetched topic metadata, as far as leadership goes. */
export interface PartitionLeader {
  partitionId: number;
  leader: number;
}

/**
 * Whether metadata shows `partitions` partitions, each with a leader.
 *
 * @example
 * ```ts
 * leadersReady([{ partitionId: 0, leader: 1 }], 1); // true
 * leadersReady([{ partitionId: 0, leader: -1 }], 1); // false
 * ```
 */
export function leadersReady(metadata: readonly PartitionLeader[], partitions: number): boolean {
  return metadata.length === partitions && metadata.every((p) => p.leader >= 0);
}

/**
 * Creates `topic` (replication factor 1) and resolves once each of its
 * partitions has a leader that serves it. Returns false when the topic
 * already existed.
 *
 * @throws {Error} Naming the topic, when its leaders are not all ready
 *   within `timeoutMs` (the last metadata error is its cause).
 */
export async function createTopicWithLeaders(
  admin: Admin,
  topic: string,
  partitions: number,
  timeoutMs = LEADER_WAIT_MS,
): Promise<boolean> {
  const created = await admin.createTopics({
    topics: [{ topic, numPartitions: partitions, replicationFactor: 1 }],
    waitForLeaders: false,
  });
  const deadline = Date.now() + timeoutMs;
  let last: unknown = null;
  while (Date.now() < deadline) {
    try {
      const { topics } = await admin.fetchTopicMetadata({ topics: [topic] });
      if (leadersReady(topics[0]?.partitions ?? [], partitions)) {
        await admin.fetchTopicOffsets(topic); // throws until every leader serves its partition
        return created;
      }
      last = null;
    } catch (error) {
      last = error; // UNKNOWN_TOPIC_OR_PARTITION, NOT_LEADER_OR_FOLLOWER: not served yet
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(
    `topic "${topic}": its ${partitions} partition(s) were not served by a leader within ${timeoutMs} ms`,
    { cause: last ?? undefined },
  );
}

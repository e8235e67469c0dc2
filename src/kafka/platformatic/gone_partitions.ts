/**
 * Partitions an output topic no longer has, kept in the library's metadata
 * as partitions without a leader.
 *
 * When a Produce fails on stale metadata, @platformatic/kafka reads the
 * metadata again and sends the same records to the same partitions; for a
 * partition the topic no longer has (it was made again with fewer), its
 * lookup of the partition's leader throws a TypeError inside a socket
 * callback, uncaught, and the worker dies. With the partition's slot filled
 * with no leader, the library fails the request with its own error (no
 * broker for it), which the caller then handles as any failed request.
 *
 * @module
 */

/** The part of the library's metadata (as its `client:metadata` event hands it over) read here. */
export interface TopicsMetadata {
  topics: Map<string, { partitions: Array<unknown | undefined> } | undefined>;
}

/** A partition slot with no leader: the library finds no broker for it. */
const NO_LEADER = Object.freeze({
  leader: -1,
  leaderEpoch: -1,
  replicas: [],
  isr: [],
  offlineReplicas: [],
});

/**
 * Fills in `metadata`, in place, the slots of partitions up to the highest
 * one records were routed to (`highest`, per topic) that the topic does not
 * have; its partition count stays as read.
 */
export function fillGonePartitions(
  metadata: TopicsMetadata,
  highest: ReadonlyMap<string, number>,
): void {
  for (const [topic, described] of metadata.topics) {
    const top = highest.get(topic);
    if (described === undefined || top === undefined) continue;
    for (let p = described.partitions.length; p <= top; p++) {
      described.partitions[p] ??= NO_LEADER;
    }
  }
}

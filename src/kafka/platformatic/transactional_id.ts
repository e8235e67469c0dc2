/**
 * The transactional id of a `delivery: exactly-once` worker slot: stable
 * across its runs, so that the next run takes it over and fences what its
 * predecessor left open.
 *
 * @module
 */

/**
 * A worker slot's transactional id: `consumerd/<group>/<consumer>/<replica>/<daemon>`
 * (each part URI-escaped),
 * where `daemon` is `kafka.instanceId`, or else the host's name. Two
 * workers holding one id at once fence each other in turn (each start
 * aborts the other's transaction): daemons sharing a host and a consumer
 * must set distinct `kafka.instanceId`s.
 *
 * In simple mode no group generation fences a zombie, so the id names what
 * the worker reads instead of the daemon: `daemon` is
 * {@linkcode simpleModeSlot} of its partitions, and whichever daemon starts
 * reading those partitions (a new pod beside a draining one) fences every
 * other.
 *
 * @example
 * ```ts
 * transactionalId({ group: "g", consumer: "audit", replica: 0, daemon: "pod-0" });
 * // "consumerd/g/audit/0/pod-0"
 * ```
 */
export function transactionalId(
  { group, consumer, replica, daemon }: {
    group: string;
    consumer: string;
    replica: number;
    daemon: string;
  },
): string {
  // Each part escaped ("/" cannot appear in one): names with dots cannot meet another's.
  return ["consumerd", group, consumer, String(replica), daemon].map(encodeURIComponent).join("/");
}

/**
 * The daemon part of a simple-mode transactional id: the partitions it
 * reads as sorted runs (`simple:0-3,7`), or `simple:all` for every
 * partition of the topic (`partitions` null).
 *
 * @example
 * ```ts
 * simpleModeSlot([7, 0, 1, 2, 3]); // "simple:0-3,7"
 * simpleModeSlot(null); // "simple:all"
 * ```
 */
export function simpleModeSlot(partitions: readonly number[] | null): string {
  if (partitions === null) return "simple:all";
  const sorted = [...new Set(partitions)].sort((a, b) => a - b);
  const runs: string[] = [];
  for (let i = 0; i < sorted.length;) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j]! + 1) j++;
    runs.push(i === j ? `${sorted[i]}` : `${sorted[i]}-${sorted[j]}`);
    i = j + 1;
  }
  return `simple:${runs.join(",")}`;
}

/**
 * What else keeps `reset-offsets` from going through, besides active group
 * members: a consumer that commits to the group without joining it (simple
 * mode) leaves the group empty, so Kafka accepts the reset, and that
 * consumer's next commit puts its own position back. Kafka keeps no trace of
 * who committed when that a client can read (OffsetFetch answers offset,
 * leader epoch and metadata only), so two signs are used: a daemon's
 * `/status` naming a consumer of the group and topic, and committed offsets
 * that move while they are watched. Pure.
 *
 * @module
 */
import { isJsonObject } from "./daemon_status.ts";

/** A partition whose committed offset changed between two reads. */
export interface MovedOffset {
  partition: number;
  from: string | null;
  to: string | null;
}

/**
 * The partitions among `partitions` whose committed offset differs between
 * `before` and `after` (partition → offset, null or absent: none).
 *
 * @example
 * ```ts
 * movedOffsets(new Map([[0, "10"]]), new Map([[0, "14"]]), [0]); // [{ partition: 0, from: "10", to: "14" }]
 * ```
 */
export function movedOffsets(
  before: ReadonlyMap<number, string | null>,
  after: ReadonlyMap<number, string | null>,
  partitions: readonly number[],
): MovedOffset[] {
  return partitions
    .map((partition) => ({
      partition,
      from: before.get(partition) ?? null,
      to: after.get(partition) ?? null,
    }))
    .filter((m) => m.from !== m.to);
}

/** A daemon's consumer that would commit over a reset. */
export interface ConsumerInTheWay {
  name: string;
  mode: string;
  state: string;
}

/**
 * The consumers in a daemon's `/status` body that read `topic` with `group`
 * and are not stopped, and hold one of `partitions` or none yet (a consumer
 * still starting holds none).
 *
 * @throws {TypeError} when `status` is not a `/status` body.
 * @example
 * ```ts
 * consumersInTheWay(await response.json(), { group: "g", topic: "orders", partitions: [0, 1] });
 * ```
 */
export function consumersInTheWay(
  status: unknown,
  { group, topic, partitions }: { group: string; topic: string; partitions: readonly number[] },
): ConsumerInTheWay[] {
  if (!isJsonObject(status) || !Array.isArray(status.consumers)) {
    throw new TypeError("Cannot read the daemon's /status as it has no consumers list");
  }
  return status.consumers.filter(isJsonObject).filter((c) => {
    if (c.group !== group || c.topic !== topic || c.state === "stopped") return false;
    const held = Array.isArray(c.partitions)
      ? c.partitions.filter(isJsonObject).map((p) => p.partition)
      : [];
    return held.length === 0 || held.some((p) => partitions.includes(p as number));
  }).map((c) => ({ name: String(c.name), mode: String(c.mode), state: String(c.state) }));
}

const STOP_FIRST = "stop it first (take it out of its daemon's config — the reload drains it — " +
  "or stop that daemon), or pass --force to reset anyway, knowing that its next commit " +
  "overwrites the reset";

/** Why to refuse when a daemon says it consumes the group and topic. */
export function daemonRefusal(
  url: string,
  consumers: readonly ConsumerInTheWay[],
  { group, topic }: { group: string; topic: string },
): string {
  const named = consumers.map((c) => `\`${c.name}\` (${c.mode} mode, ${c.state})`).join(", ");
  return `the daemon at ${url} runs ${
    consumers.length === 1 ? "consumer" : "consumers"
  } ${named} on group ${group}, topic ${topic}; ${STOP_FIRST}`;
}

/** Why to refuse when committed offsets moved while they were watched. */
export function movedRefusal(
  moved: readonly MovedOffset[],
  { group, topic, watchMs }: { group: string; topic: string; watchMs: number },
): string {
  const shown = moved.slice(0, 3).map((m) =>
    `partition ${m.partition}: ${m.from ?? "none"} → ${m.to ?? "none"}`
  ).join(", ");
  const more = moved.length > 3 ? `, and ${moved.length - 3} more` : "";
  return `group ${group}'s committed offsets on ${topic} moved while they ` +
    `were watched for ${watchMs / 1000} s (${shown}${more}), though the group has no active ` +
    "members: a consumer that commits without joining the group (a simple-mode consumer) is " +
    `running; ${STOP_FIRST}`;
}

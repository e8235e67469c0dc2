/**
 * Helpers for the ordering tests: the calls the `keyed_calls.ts` fixture
 * recorded, a daemon config for it, and commits read and written with
 * their metadata.
 *
 * @module
 */
import { dirname } from "node:path";
import { createKafka } from "../../src/kafka/kafkajs/client.ts";
import { evictGroupMember, TopicClient } from "../../src/kafka/kafkajs/topic_client.ts";
import { createLogger } from "../../src/log.ts";
import { decodeCommitMetadata } from "../../src/offsets/commit_metadata.ts";
import { fixtureHandler } from "./daemon.ts";
import { TEST_KAFKA } from "./kafka.ts";

/** One handler call, as `keyed_calls.ts` recorded it (when it ended). */
export interface CallRecord {
  partition: number;
  offset: string;
  key: string | null;
  value: string;
  /** Wall-clock ms (fractional) when the call started and ended. */
  start: number;
  end: number;
  failed: boolean;
}

/** The calls recorded in `file` so far, in the order they ended. */
export async function readCalls(file: string): Promise<CallRecord[]> {
  const text = await Deno.readTextFile(file).catch(() => "");
  // A line still being written (no newline yet) is read next time.
  return text.slice(0, text.lastIndexOf("\n") + 1).split("\n").filter((line) => line !== "")
    .map((line) => JSON.parse(line));
}

/** `partition:offset` of a call. */
export const at = (c: { partition: number; offset: string }) => `${c.partition}:${c.offset}`;

/** A consumer running `keyed_calls.ts`, allowed to write `recordFile`. */
export function keyedConsumer(
  fields: Record<string, unknown> & { group: string; topic: string },
  recordFile: string,
): Record<string, unknown> {
  return {
    name: "c",
    handler: fixtureHandler("keyed_calls.ts"),
    permissions: { env: ["RECORD_FILE"], write: [dirname(recordFile)] },
    ...fields,
  };
}

/**
 * Pairs of calls of one key that overlapped in time or ran out of offset
 * order (both must be empty with `ordering: key`), and the most calls of
 * one key that ran at once.
 */
export function keyOrder(
  calls: readonly CallRecord[],
): { overlaps: string[]; outOfOrder: string[]; mostAtOnce: number } {
  const byKey = new Map<string, CallRecord[]>();
  for (const c of calls) {
    const key = `${c.partition}/${c.key}`;
    byKey.set(key, [...(byKey.get(key) ?? []), c]);
  }
  const overlaps: string[] = [];
  const outOfOrder: string[] = [];
  let mostAtOnce = 0;
  for (const [key, list] of byKey) {
    list.sort((a, b) => a.start - b.start);
    for (let i = 1; i < list.length; i++) {
      const before = list[i - 1]!;
      const after = list[i]!;
      if (after.start < before.end) overlaps.push(`${key}: ${at(before)} and ${at(after)}`);
      if (BigInt(after.offset) <= BigInt(before.offset)) {
        outOfOrder.push(`${key}: ${at(after)} after ${at(before)}`);
      }
    }
    mostAtOnce = Math.max(mostAtOnce, peak(list));
  }
  return { overlaps, outOfOrder, mostAtOnce };
}

/** The most calls running at the same moment. */
export function peak(calls: readonly CallRecord[]): number {
  const edges = calls.flatMap((c) => [[c.start, 1], [c.end, -1]] as const)
    .sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let running = 0;
  let most = 0;
  for (const [, step] of edges) most = Math.max(most, running += step);
  return most;
}

/** The group's committed offset and metadata of each partition, and the offsets the metadata lists. */
export async function committedWithMetadata(
  group: string,
  topic: string,
): Promise<
  Array<{ partition: number; offset: string; metadata: string | null; listed: Set<string> }>
> {
  const admin = createKafka(TEST_KAFKA, { clientIdSuffix: "metadata" }).admin();
  await admin.connect();
  try {
    const [result] = await admin.fetchOffsets({ groupId: group, topics: [topic] });
    return (result?.partitions ?? []).map((p) => {
      const decoded = decodeCommitMetadata(p.metadata, p.offset);
      const listed = new Set<string>();
      if (decoded.kind === "finished") {
        for (const [from, to] of decoded.finished.ranges) {
          for (let o = from; o < to; o++) listed.add(`${p.partition}:${o}`);
        }
      }
      return { partition: p.partition, offset: p.offset, metadata: p.metadata || null, listed };
    }).sort((a, b) => a.partition - b.partition);
  } finally {
    await admin.disconnect();
  }
}

/** Commits offsets with metadata for a group that has no members (as another tool would). */
export async function commitAsTool(
  group: string,
  topic: string,
  offsets: Array<{ partition: number; offset: string; metadata: string | null }>,
): Promise<void> {
  const client = await TopicClient.connect({
    kafka: TEST_KAFKA,
    clientIdSuffix: "tool",
    topic,
    logger: createLogger({ level: "error" }),
  });
  try {
    await client.commit(group, offsets);
  } finally {
    await client.disconnect();
  }
}

/**
 * Takes every member out of `group` on its behalf, as the supervisor does
 * for a dead worker: a SIGKILLed daemon's members would otherwise hold the
 * group's next rebalance for the session timeout (30 s).
 */
export async function evictMembers(group: string): Promise<void> {
  const admin = createKafka(TEST_KAFKA, { clientIdSuffix: "evict" }).admin();
  await admin.connect();
  try {
    const { groups: [described] } = await admin.describeGroups([group]);
    for (const { memberId } of described?.members ?? []) {
      await evictGroupMember(TEST_KAFKA, {
        group,
        memberId,
        logger: createLogger({ level: "error" }),
      });
    }
  } finally {
    await admin.disconnect();
  }
}

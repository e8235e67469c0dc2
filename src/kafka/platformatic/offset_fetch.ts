/**
 * The group's committed offsets with their metadata, read with the
 * library's own OffsetFetch API: its `listCommittedOffsets()` drops the
 * metadata, which `ordering: key` and `none` keep their finished offsets in.
 * It asks for stable offsets (KIP-447): while a transaction that commits
 * offsets of the group is open, the coordinator answers
 * UNSTABLE_OFFSET_COMMIT, and the read waits for the transaction to end.
 *
 * @module
 */
import type { Logger } from "../../log.ts";
import { committedMetadata, committedOffset } from "../offset_checks.ts";
import { errorIds } from "./error_ids.ts";

/** The coordinator's answer while a transaction holds offsets of the group. */
const UNSTABLE_OFFSET_COMMIT = "UNSTABLE_OFFSET_COMMIT";
/** The first wait before asking again, doubled each time up to {@linkcode UNSTABLE_MAX_DELAY_MS}. */
const UNSTABLE_FIRST_DELAY_MS = 20;
const UNSTABLE_MAX_DELAY_MS = 500;
/**
 * How long the read waits for a transaction to end: past a transaction's
 * timeout (60 s for consumerd's own), the broker has aborted it.
 */
const UNSTABLE_WAIT_MS = 65_000;

/** Options for {@linkcode fetchCommitted}. */
export interface FetchCommittedOptions {
  /** Where each wait for an open transaction is logged (debug). */
  logger?: Logger;
  /** How long to wait for open transactions at most (default 65 s), then reject. */
  unstableWaitMs?: number;
}

/** A partition's committed offset (null where none) and the metadata committed with it. */
export interface CommittedOffset {
  offset: string | null;
  metadata: string | null;
}

/** What {@linkcode fetchCommitted} needs of the client: its group, topic and coordinator. */
export interface CoordinatorCaller {
  readonly group: string;
  readonly topic: string;
  callCoordinator<T>(name: string, args: (version: number) => unknown[]): Promise<T>;
}

interface OffsetFetchTopic {
  name: string;
  partitions: Array<{
    partitionIndex: number;
    committedOffset: bigint;
    metadata: string | null;
    errorCode: number;
  }>;
}
/** Version 8 on answers per group. */
interface OffsetFetchResponseV8 {
  groups: Array<{ topics: OffsetFetchTopic[] }>;
}
/** Older versions answer for the one group asked. */
interface OffsetFetchResponseV7 {
  topics: OffsetFetchTopic[];
}

/**
 * The committed offset and metadata of each of `partitions` of the client's
 * topic in its group; rejects when the coordinator answers a partition with
 * an error.
 *
 * @example
 * ```ts
 * const committed = await fetchCommitted(client, [0, 1]);
 * committed.get(0); // { offset: "42", metadata: "cd1:42:…" }
 * ```
 */
export async function fetchCommitted(
  client: CoordinatorCaller,
  partitions: number[],
  { logger, unstableWaitMs = UNSTABLE_WAIT_MS }: FetchCommittedOptions = {},
): Promise<Map<number, CommittedOffset>> {
  const deadline = Date.now() + unstableWaitMs;
  for (let delay = UNSTABLE_FIRST_DELAY_MS;; delay = Math.min(delay * 2, UNSTABLE_MAX_DELAY_MS)) {
    try {
      return await fetchOnce(client, partitions);
    } catch (error) {
      if (!errorIds(error).includes(UNSTABLE_OFFSET_COMMIT) || Date.now() + delay > deadline) {
        throw error;
      }
      logger?.debug("committed offsets held by an open transaction; reading them again", {
        partitions,
        retryInMs: delay,
      });
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }
}

async function fetchOnce(
  client: CoordinatorCaller,
  partitions: number[],
): Promise<Map<number, CommittedOffset>> {
  let version = 0;
  const response = await client.callCoordinator<OffsetFetchResponseV8 | OffsetFetchResponseV7>(
    "OffsetFetch",
    (v) => {
      version = v;
      return [
        [{
          groupId: client.group,
          memberId: null,
          memberEpoch: -1,
          topics: [{ name: client.topic, partitionIndexes: partitions }],
        }],
        // requireStable: while a transaction that commits offsets of the group is open, the
        // coordinator answers UNSTABLE_OFFSET_COMMIT (the reader asks again) rather than an
        // offset that transaction is about to move (KIP-447).
        true,
      ];
    },
  );
  const topics = version >= 8
    ? (response as OffsetFetchResponseV8).groups.flatMap((g) => g.topics)
    : (response as OffsetFetchResponseV7).topics;
  const found = new Map<number, CommittedOffset>();
  for (const topic of topics) {
    if (topic.name !== client.topic) continue;
    for (const p of topic.partitions) {
      if (p.errorCode !== 0) {
        throw new Error(
          `Cannot read the committed offset of partition ${p.partitionIndex}: error code ${p.errorCode}`,
        );
      }
      found.set(p.partitionIndex, {
        offset: committedOffset(p.committedOffset),
        metadata: committedMetadata(p.metadata),
      });
    }
  }
  return new Map(partitions.map((p) => [p, found.get(p) ?? { offset: null, metadata: null }]));
}

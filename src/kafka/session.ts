/**
 * What the worker loop sees of a Kafka consumer, in either mode: balanced
 * (group membership, kafkajs's consumer) or simple (fixed partitions, no
 * membership). Only src/kafka/ implements it.
 *
 * @module
 */
import type { KafkaConfig } from "../config/types.ts";
import type { Logger } from "../log.ts";
import type { Message } from "../message.ts";

/** Thrown by `begin()` when a newer assignment replaced the one it was for. */
export class StaleAssignmentError extends Error {
  override name = "StaleAssignmentError";
}

/**
 * A static member's instance id is held by another member of the group (a
 * second daemon started with the same `kafka.instanceId`): this member does
 * not try to take it back, which would fence the other in turn.
 */
export class InstanceIdInUseError extends Error {
  override name = "InstanceIdInUseError";
  /** The group.instance.id in question. */
  readonly instanceId: string;

  /** `instanceId` is the member's group.instance.id, `daemon` the `kafka.instanceId` it comes from. */
  constructor(instanceId: string, { group, daemon }: { group: string; daemon: string }) {
    super(
      `instance id ${instanceId} is in use by another member of group "${group}" (another ` +
        `daemon with kafka.instanceId ${daemon}?)`,
    );
    this.instanceId = instanceId;
  }
}

/**
 * Why a heartbeat failed: the group is rebalancing (keep heartbeating until
 * the call in hand ends, then rejoin), this member is no longer in the group
 * (stop), or a passing error (try again).
 */
export type HeartbeatFailure = "rebalance" | "gone" | "transient";

const FAILURE = Symbol("heartbeatFailure");

/** Tags a client's heartbeat error with what it means; the error itself is kept (the client recognises it when rethrown). */
export function tagHeartbeatFailure(error: unknown, failure: HeartbeatFailure): unknown {
  if (typeof error === "object" && error !== null) {
    (error as Record<symbol, unknown>)[FAILURE] = failure;
  }
  return error;
}

/** What a heartbeat error means (untagged errors are passing ones). */
export function heartbeatFailure(error: unknown): HeartbeatFailure {
  if (typeof error !== "object" || error === null) return "transient";
  return ((error as Record<symbol, unknown>)[FAILURE] as HeartbeatFailure | undefined) ??
    "transient";
}

/** One partition's worth of fetched messages, in offset order. */
export interface FetchedBatch {
  partition: number;
  /** The session's assignment generation its partition was begun in. */
  generation: number;
  highWatermark: string;
  /** How many messages the batch holds. */
  size: number;
  /**
   * Builds message `index` (0 ≤ index < size). Messages are built on demand,
   * one at a time, so that a per-message handler never holds a whole batch
   * of them: build each once.
   */
  at(index: number): Message;
  /** Marks every message up to and including `offset` as finished (the next fetch starts after it). */
  resolve(offset: string): void;
  /**
   * False once the session is stopping, the group is rebalancing, or the
   * partition moved or was sought: start no new handler call for the batch.
   */
  active(): boolean;
  /**
   * Keeps the group membership alive during long batches. Rejects with the
   * client's error, tagged (see {@linkcode heartbeatFailure}).
   */
  heartbeat(): Promise<void>;
}

/** Every message of a batch, built at once (for batch handlers). */
export function batchMessages(batch: FetchedBatch): Message[] {
  const messages: Message[] = [];
  for (let i = 0; i < batch.size; i++) messages.push(batch.at(i));
  return messages;
}

/** How much one fetch may return, and how long the broker may wait to fill it. */
export interface FetchLimits {
  maxBytesPerPartition: number;
  maxBytes: number;
  maxWaitMs: number;
}

/** An offset of a partition, in Kafka's next-offset convention. */
export interface PartitionOffset {
  partition: number;
  offset: string;
  /**
   * The commit's metadata string (`ordering: key` and `none` list the
   * finished offsets beyond `offset` there); absent or null: none.
   */
  metadata?: string | null;
}

/** What the broker knows of a partition for this group. */
export interface PartitionState {
  partition: number;
  /** Committed offset (the next to read), or null when the group has none. */
  committed: string | null;
  /** The metadata committed with it ("" or null when none). */
  metadata: string | null;
  /** First offset still in the log. */
  logStartOffset: string;
  /** Offset the next produced record will get. */
  highWatermark: string;
}

/**
 * A set of partitions this session now owns; nothing is read from them
 * until {@linkcode ConsumerSession.begin}, except the `kept` ones.
 */
export interface Assignment {
  /** Increases with each assignment of this session. */
  generation: number;
  partitions: number[];
  /**
   * Partitions of the previous assignment that stay and go on being read
   * from where they are (the consumer protocol moves only the partitions
   * that change owner): their start is not decided again, their batches in
   * hand go on and carry the generation they were begun in. Absent or
   * empty: every partition starts anew.
   */
  kept?: number[];
  /** The group member id (balanced mode). */
  memberId?: string;
}

/** Who a balanced session is in its group. */
export interface Membership {
  memberId: string;
  /**
   * The group generation (classic protocol) or the member epoch (consumer
   * protocol); null while the join that gave the member id is under way.
   */
  generation: number | null;
}

/** Who a balanced session commits as, and where its group's offsets are kept. */
export interface GroupMember {
  group: string;
  /** The group generation (classic protocol) or the member epoch (consumer protocol). */
  generation: number;
  memberId: string;
  /** The static member's group.instance.id, or null for a dynamic member. */
  instanceId: string | null;
  /** The node id of the group coordinator. */
  coordinator: number;
  /**
   * Consumer protocol: the member's epoch now (it moves under a commit in
   * progress: each assignment the member takes in bumps it), or null once
   * the member lost its partitions since the commit began. Absent: the
   * generation holds for the whole commit.
   */
  epoch?(): number | null;
}

/** Options shared by both modes. */
export interface SessionOptions {
  kafka: KafkaConfig;
  clientIdSuffix: string;
  group: string;
  topic: string;
  /** Balanced mode: the group protocol (`consumer` is KIP-848; the platformatic engine only). */
  groupProtocol: GroupProtocol;
  /**
   * Balanced mode: the static member's group.instance.id
   * (`<kafka.instanceId>.<consumer>.<replica>`), or null for a dynamic member.
   */
  instanceId: string | null;
  /** Simple mode: the fixed partitions (null: all of the topic's). Ignored in balanced mode. */
  partitions: number[] | null;
  /** Where a partition whose committed offset falls out of range while reading continues. */
  autoOffsetReset: "earliest" | "latest";
  /** Commit finished offsets after every batch and on rebalance (commit mode `auto`). */
  autoCommit: boolean;
  /**
   * The consumer's `commit.intervalMs`: in auto mode, a commit that failed is
   * tried again this soon, whether or not another batch arrives.
   */
  commitIntervalMs: number;
  /** Fetch sizes and wait (the consumer's `fetch:`). */
  fetch: FetchLimits;
  /** How many partitions' batches may be handled at once (each partition's in order). */
  concurrency: number;
  /** How long one handler call may run: the membership is kept that long during a rebalance. */
  maxHandlerMs: number;
  logger: Logger;
  onBatch(batch: FetchedBatch): Promise<void>;
  /** A new assignment; every partition stays paused until `begin()`. Called synchronously by the session. */
  onAssigned(assignment: Assignment): void;
  onCommitted(offsets: PartitionOffset[]): void;
  /**
   * Balanced mode, platformatic engine: commits offsets in place of the
   * session's own OffsetCommit, as `member` (`delivery: exactly-once` sends
   * them in a transaction with the outputs of the messages they finish).
   * Every commit of the session goes through it, one at a time.
   */
  commitOffsets?(offsets: PartitionOffset[], member: GroupMember): Promise<void>;
  /** The group started rebalancing: `onAssigned` follows (balanced mode). */
  onRebalancing?(): void;
  /**
   * Balanced mode: `partitions` are about to be given back. Awaited before
   * the session rejoins the group, once the batches in hand ended, while the
   * membership is kept alive (up to the rebalance timeout): the generation
   * that owns them is still current, so a commit made meanwhile counts.
   */
  onRevoking?(partitions: number[]): Promise<void>;
  /** A committed offset fell out of range while reading, and the partition moved to autoOffsetReset. */
  onOutOfRange(partition: number): void;
  /**
   * The session failed and will not recover by itself (an auto commit that
   * Kafka refused for good is a `CommitRejectedError`).
   */
  onFatal(error: unknown): void;
  /**
   * Balanced mode: the member id, or the group generation (classic) or
   * member epoch (consumer protocol) changed.
   */
  onMembership?(membership: Membership): void;
  /**
   * Balanced mode: why the member cannot join for now while it keeps trying
   * (its instance id is held by another member), or null once it joined.
   */
  onWaiting?(problem: Error | null): void;
}

/** A running consumer session. */
export interface ConsumerSession {
  /** Committed offsets and log bounds of `partitions`, read from the broker now. */
  describe(partitions: number[]): Promise<PartitionState[]>;
  /**
   * Commits each partition's start position (with its metadata, if any) at
   * once, then starts reading them there. Rejects if `generation` is no longer the current assignment
   * before the commit; resolves false when it moved on after it (committed,
   * not read), true when reading.
   */
  begin(generation: number, positions: PartitionOffset[]): Promise<boolean>;
  /**
   * Commits offsets now, each with its metadata (a commit without metadata
   * clears what the partition's last commit carried); rejects
   * when they were not committed, with a `CommitRejectedError` when Kafka
   * refused them for good (so does `begin()`).
   */
  commit(offsets: PartitionOffset[]): Promise<void>;
  pause(partitions: number[]): void;
  resume(partitions: number[]): void;
  /**
   * Stops fetching, waits for the batch in hand, commits (auto mode), and
   * leaves the group. With `leave: false` a static member (one with an
   * `instanceId`) stays in the group instead, holding its partitions until
   * the session timeout, so that its next run (the same instance id) takes
   * them back with no rebalance; a dynamic member always leaves.
   */
  stop(options?: StopOptions): Promise<void>;
}

/** How a session stops. */
export interface StopOptions {
  /** Leave the group (default true); false keeps a static member in it. */
  leave?: boolean;
}

/** A balanced consumer's group protocol. */
export type GroupProtocol = KafkaConfig["groupProtocol"];

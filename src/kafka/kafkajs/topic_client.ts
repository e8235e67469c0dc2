/**
 * One topic's partitions and one group's offsets, read and written through
 * kafkajs's internal protocol layer, for simple mode (no group membership).
 *
 * kafkajs 2.2.4 has no public API to read chosen partitions without joining
 * the group, so this module uses what its own consumer uses: the `Cluster`
 * (metadata, leaders, broker connections), the brokers' Fetch, ListOffsets,
 * OffsetFetch and OffsetCommit requests, and the consumer's `Batch`, which
 * drops records below the fetch offset, aborted transactions and control
 * records. The `Cluster` comes from the same private factory kafkajs's
 * `Kafka` uses for its consumer, so every connection setting of
 * {@linkcode createKafka} (TLS, SASL, timeouts, retries, logging) applies
 * unchanged. These are internals of the pinned kafkajs 2.2.4: the local
 * interfaces below state what is assumed of them, and
 * {@linkcode TopicClient.connect} checks that assumption at run time.
 *
 * @module
 */
import type { KafkaMessage } from "kafkajs";
import KafkajsBatch from "kafkajs/src/consumer/batch.js";
import type { KafkaConfig } from "../../config/types.ts";
import type { Logger } from "../../log.ts";
import { backoffDelay } from "../../backoff.ts";
import { createKafka } from "./client.ts";
import { commitRejection } from "../commit_rejected.ts";
import { committedMetadata, committedOffset } from "../offset_checks.ts";
import type { FetchLimits, PartitionOffset } from "../session.ts";

/** The part of kafkajs's internal `Broker` used here. */
interface InternalBroker {
  fetch(request: {
    replicaId: number;
    isolationLevel: number;
    maxWaitTime: number;
    minBytes: number;
    maxBytes: number;
    topics: Array<{
      topic: string;
      partitions: Array<{ partition: number; fetchOffset: string; maxBytes: number }>;
    }>;
  }): Promise<{ responses: Array<{ topicName: string; partitions: RawPartitionData[] }> }>;
  offsetCommit(request: {
    groupId: string;
    groupGenerationId: number;
    memberId: string;
    topics: Array<{
      topic: string;
      partitions: Array<{ partition: number; offset: string; metadata: string | null }>;
    }>;
  }): Promise<unknown>;
  leaveGroup(request: { groupId: string; memberId: string }): Promise<unknown>;
  offsetFetch(request: {
    groupId: string;
    topics: Array<{ topic: string; partitions: Array<{ partition: number }> }>;
  }): Promise<{
    responses: Array<{
      topic: string;
      partitions: Array<{ partition: number; offset: string; metadata: string | null }>;
    }>;
  }>;
}

/** The part of kafkajs's internal `Cluster` used here. */
interface InternalCluster {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  addTargetTopic(topic: string): Promise<void>;
  refreshMetadata(): Promise<void>;
  refreshMetadataIfNecessary(): Promise<void>;
  removeBroker(address: { host: string; port: number }): void;
  findTopicPartitionMetadata(topic: string): Array<{ partitionId: number }>;
  findLeaderForPartitions(topic: string, partitions: number[]): Record<string, number[]>;
  findBroker(node: { nodeId: string }): Promise<InternalBroker>;
  findGroupCoordinator(group: { groupId: string }): Promise<InternalBroker>;
  fetchTopicsOffset(
    topics: Array<{
      topic: string;
      fromBeginning: boolean;
      partitions: Array<{ partition: number }>;
    }>,
  ): Promise<Array<{ topic: string; partitions: Array<{ partition: number; offset: string }> }>>;
}

/** One partition of a fetch response, as kafkajs decodes it; only `Batch` reads the rest. */
interface RawPartitionData {
  partition: number;
  highWatermark: string;
}

/** The part of kafkajs's internal consumer `Batch` used here. */
interface InternalBatch {
  highWatermark: string;
  messages: KafkaMessage[];
  isEmptyDueToFiltering(): boolean;
  lastOffset(): string;
}

const Batch = KafkajsBatch as unknown as new (
  topic: string,
  fetchedOffset: string,
  partitionData: RawPartitionData,
) => InternalBatch;

/** The name kafkajs 2.2.4 gives the private cluster factory of its `Kafka` client. */
const CREATE_CLUSTER = "private:Kafka:createCluster";
const CLUSTER_METHODS = [
  "connect",
  "disconnect",
  "addTargetTopic",
  "refreshMetadata",
  "refreshMetadataIfNecessary",
  "removeBroker",
  "findTopicPartitionMetadata",
  "findLeaderForPartitions",
  "findBroker",
  "findGroupCoordinator",
  "fetchTopicsOffset",
] as const;

/** kafkajs's isolation level for reading only committed transactions. */
const READ_COMMITTED = 1;
/** Error types after which the group coordinator must be looked up again. */
const COORDINATOR_ERRORS = new Set([
  "GROUP_COORDINATOR_NOT_AVAILABLE",
  "NOT_COORDINATOR_FOR_GROUP",
  "GROUP_LOAD_IN_PROGRESS",
]);
/** kafkajs errors of a lost or stalled connection; a broker object found again reconnects. */
const CONNECTION_ERRORS = new Set([
  "KafkaJSConnectionError",
  "KafkaJSConnectionClosedError",
  "KafkaJSRequestTimeoutError",
]);
const COORDINATOR_ATTEMPTS = 5;

/** The records of one partition from one fetch, filtered as kafkajs's consumer filters them. */
export interface PartitionRecords {
  partition: number;
  /** The offset this fetch asked for. */
  fetchOffset: string;
  highWatermark: string;
  /** Data records from `fetchOffset` on: no control records, no aborted transactions. */
  messages: KafkaMessage[];
  /**
   * The last offset this fetch covered, filtered records included; the next
   * fetch after a fully handled batch starts after it.
   */
  lastOffset: string;
  /** True when the broker returned records but every one was filtered out. */
  emptyDueToFiltering: boolean;
}

/** Options for {@linkcode TopicClient.connect}. */
export interface TopicClientOptions {
  kafka: KafkaConfig;
  clientIdSuffix: string;
  topic: string;
  logger: Logger;
}

/** A connection to a cluster for one topic, outside any group membership. */
export class TopicClient {
  readonly topic: string;
  #cluster: InternalCluster;
  #coordinators = new Map<string, InternalBroker>();

  private constructor(cluster: InternalCluster, topic: string) {
    this.#cluster = cluster;
    this.topic = topic;
  }

  /**
   * Connects to the cluster and loads the topic's metadata.
   *
   * @throws {Error} If the brokers cannot be reached, the topic does not
   * exist, or the installed kafkajs is not the pinned 2.2.4.
   *
   * @example
   * ```ts ignore
   * const client = await TopicClient.connect({ kafka, clientIdSuffix: "audit-0", topic: "orders", logger });
   * client.partitions(); // [0, 1, 2]
   * ```
   */
  static async connect(options: TopicClientOptions): Promise<TopicClient> {
    const { kafka, clientIdSuffix, topic, logger } = options;
    const cluster = internalCluster(createKafka(kafka, { clientIdSuffix, logger }));
    const client = new TopicClient(cluster, topic);
    const missing = `Cannot read topic "${topic}": it does not exist`;
    try {
      await cluster.connect();
      await cluster.addTargetTopic(topic);
    } catch (error) {
      await cluster.disconnect().catch(() => {});
      if (errorType(error) === "UNKNOWN_TOPIC_OR_PARTITION") {
        throw new Error(missing, { cause: error });
      }
      throw error;
    }
    if (client.partitions().length === 0) {
      await cluster.disconnect().catch(() => {});
      throw new Error(missing);
    }
    return client;
  }

  /** The topic's partitions in the metadata loaded last, in ascending order. */
  partitions(): number[] {
    return this.#cluster.findTopicPartitionMetadata(this.topic)
      .map((p) => p.partitionId)
      .sort((a, b) => a - b);
  }

  /**
   * Groups `partitions` by the node id of their leader.
   *
   * @throws {Error} A retriable error when a partition is missing from the
   * metadata (refresh it and try again).
   */
  async leaders(partitions: number[]): Promise<Map<string, number[]>> {
    await this.#cluster.refreshMetadataIfNecessary();
    const byLeader = this.#cluster.findLeaderForPartitions(this.topic, partitions);
    const found = new Set(Object.values(byLeader).flat());
    const missing = partitions.filter((p) => !found.has(p));
    if (missing.length > 0) {
      throw retriableError(
        `No leader known for partitions ${missing.join(", ")} of topic "${this.topic}"`,
      );
    }
    return new Map(Object.entries(byLeader));
  }

  /**
   * Fetches from one broker (read committed), each partition from its offset.
   * A partition error rejects the whole fetch, as kafkajs reports it: an
   * OFFSET_OUT_OF_RANGE names its partition ({@linkcode outOfRangePartition}).
   */
  async fetch(
    nodeId: string,
    requests: Array<{ partition: number; fetchOffset: string }>,
    limits: FetchLimits,
  ): Promise<PartitionRecords[]> {
    const broker = await this.#cluster.findBroker({ nodeId });
    const { responses } = await broker.fetch({
      replicaId: -1,
      isolationLevel: READ_COMMITTED,
      maxWaitTime: limits.maxWaitMs,
      minBytes: 1,
      maxBytes: limits.maxBytes,
      topics: [{
        topic: this.topic,
        partitions: requests.map((r) => ({
          partition: r.partition,
          fetchOffset: r.fetchOffset,
          maxBytes: limits.maxBytesPerPartition,
        })),
      }],
    });
    const offsets = new Map(requests.map((r) => [r.partition, r.fetchOffset]));
    return responses
      .filter((r) => r.topicName === this.topic)
      .flatMap((r) => r.partitions)
      .flatMap((data) => {
        const fetchOffset = offsets.get(data.partition);
        if (fetchOffset === undefined) return [];
        const batch = new Batch(this.topic, fetchOffset, data);
        return [{
          partition: data.partition,
          fetchOffset,
          highWatermark: batch.highWatermark,
          messages: batch.messages,
          lastOffset: batch.lastOffset(),
          emptyDueToFiltering: batch.isEmptyDueToFiltering(),
        }];
      });
  }

  /**
   * Each partition's log start offset (`earliest`) or high watermark
   * (`latest`; the last stable offset, as a read-committed consumer sees it).
   *
   * @throws {Error} If a partition does not exist.
   */
  async listOffsets(
    partitions: number[],
    which: "earliest" | "latest",
  ): Promise<Map<number, string>> {
    if (partitions.length === 0) return new Map();
    await this.#cluster.refreshMetadataIfNecessary();
    const result = await this.#cluster.fetchTopicsOffset([{
      topic: this.topic,
      fromBeginning: which === "earliest",
      partitions: partitions.map((partition) => ({ partition })),
    }]);
    const offsets = new Map(
      result.filter((t) => t.topic === this.topic)
        .flatMap((t) => t.partitions)
        .map((p) => [p.partition, String(p.offset)]),
    );
    this.#checkPresent(partitions, offsets);
    return offsets;
  }

  /**
   * The group's committed offsets (null where it has none) and their
   * metadata, read from its coordinator.
   */
  async committed(
    group: string,
    partitions: number[],
  ): Promise<Map<number, { offset: string | null; metadata: string | null }>> {
    if (partitions.length === 0) return new Map();
    const { responses } = await this.#withCoordinator(
      group,
      (coordinator) =>
        coordinator.offsetFetch({
          groupId: group,
          topics: [{
            topic: this.topic,
            partitions: partitions.map((partition) => ({ partition })),
          }],
        }),
    );
    const offsets = new Map(
      responses.filter((t) => t.topic === this.topic)
        .flatMap((t) => t.partitions)
        .map((p) => [p.partition, {
          offset: committedOffset(p.offset),
          metadata: committedMetadata(p.metadata),
        }]),
    );
    this.#checkPresent(partitions, offsets);
    return offsets;
  }

  /**
   * Commits offsets for the group as a standalone consumer (generation -1,
   * no member id). Kafka accepts this while the group has no active members;
   * otherwise it rejects it (ILLEGAL_GENERATION or UNKNOWN_MEMBER_ID), and so
   * does an authorization failure: both throw a `CommitRejectedError`.
   */
  async commit(group: string, offsets: PartitionOffset[]): Promise<void> {
    if (offsets.length === 0) return;
    try {
      await this.#withCoordinator(group, (coordinator) =>
        coordinator.offsetCommit({
          groupId: group,
          groupGenerationId: -1,
          memberId: "",
          topics: [{
            topic: this.topic,
            partitions: offsets.map((o) => ({
              partition: o.partition,
              offset: o.offset,
              metadata: o.metadata ?? null,
            })),
          }],
        }));
    } catch (error) {
      const type = errorType(error);
      throw commitRejection(type === null ? [] : [type], {
        group,
        withoutMembership: true,
        cause: error,
      }) ?? error;
    }
  }

  /**
   * Prepares a retry after a retriable error: forgets a closed broker
   * connection, then reloads the metadata. Its own failures are left to the
   * next attempt.
   */
  async recover(error: unknown): Promise<void> {
    this.#coordinators.clear();
    const closed = closedConnection(error);
    if (closed) this.#cluster.removeBroker(closed);
    await this.#cluster.refreshMetadata().catch(() => {});
  }

  /** Closes every broker connection. */
  async disconnect(): Promise<void> {
    await this.#cluster.disconnect();
  }

  #checkPresent(partitions: number[], found: Map<number, unknown>): void {
    const missing = partitions.filter((p) => !found.has(p));
    if (missing.length > 0) {
      throw new RangeError(
        `Partition ${
          missing.join(", ")
        } of topic "${this.topic}" does not exist: the topic has partitions ${
          this.partitions().join(", ")
        }`,
      );
    }
  }

  /** Runs `request` on the group's coordinator, finding it again when it moved. */
  async #withCoordinator<T>(
    group: string,
    request: (coordinator: InternalBroker) => Promise<T>,
  ): Promise<T> {
    for (let attempt = 1;; attempt++) {
      try {
        let coordinator = this.#coordinators.get(group);
        if (coordinator === undefined) {
          coordinator = await this.#cluster.findGroupCoordinator({ groupId: group });
          this.#coordinators.set(group, coordinator);
        }
        return await request(coordinator);
      } catch (error) {
        this.#coordinators.delete(group);
        const moved = COORDINATOR_ERRORS.has(errorType(error) ?? "") || isConnectionError(error);
        if (!moved || attempt >= COORDINATOR_ATTEMPTS) throw error;
        await this.#cluster.refreshMetadata().catch(() => {});
        await new Promise((r) =>
          setTimeout(r, backoffDelay(attempt, { baseMs: 100, maxMs: 2_000 }))
        );
      }
    }
  }
}

/**
 * Whether kafkajs marked `error` as retriable (a wrapped "retries exceeded"
 * error counts as its cause).
 */
export function isRetriable(error: unknown): boolean {
  if (!isObject(error)) return false;
  if (error.name === "KafkaJSNumberOfRetriesExceeded") return isRetriable(error.cause);
  return error.retriable === true;
}

/** The partition of `topic` that an OFFSET_OUT_OF_RANGE fetch error names, or null. */
export function outOfRangePartition(error: unknown, topic: string): number | null {
  if (!isObject(error) || error.name !== "KafkaJSOffsetOutOfRange") return null;
  return error.topic === topic && typeof error.partition === "number" ? error.partition : null;
}

/** kafkajs's protocol error type (e.g. "NOT_LEADER_FOR_PARTITION"), if `error` has one. */
export function errorType(error: unknown): string | null {
  return isObject(error) && typeof error.type === "string" ? error.type : null;
}

function closedConnection(error: unknown): { host: string; port: number } | null {
  if (!isObject(error) || error.name !== "KafkaJSConnectionClosedError") return null;
  const { host, port } = error;
  return typeof host === "string" && typeof port === "number" ? { host, port } : null;
}

function isConnectionError(error: unknown): boolean {
  return isObject(error) && typeof error.name === "string" && CONNECTION_ERRORS.has(error.name);
}

function retriableError(message: string): Error {
  return Object.assign(new Error(message), { retriable: true });
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null;
}

/** Creates a kafkajs `Cluster` through the client's private factory, as its consumer does. */
/**
 * Removes a member from its group on its behalf — its worker died without
 * leaving — so that the group rebalances now instead of after the session
 * timeout.
 */
export async function evictGroupMember(
  kafka: KafkaConfig,
  { group, memberId, logger }: { group: string; memberId: string; logger: Logger },
): Promise<void> {
  const cluster = internalCluster(createKafka(kafka, { clientIdSuffix: "supervisor", logger }));
  try {
    await cluster.connect();
    const coordinator = await cluster.findGroupCoordinator({ groupId: group });
    await coordinator.leaveGroup({ groupId: group, memberId });
  } finally {
    await cluster.disconnect().catch(() => {});
  }
}

function internalCluster(kafka: object): InternalCluster {
  const symbol = Object.getOwnPropertySymbols(kafka).find((s) => s.description === CREATE_CLUSTER);
  const factory: unknown = symbol === undefined ? undefined : Reflect.get(kafka, symbol);
  if (typeof factory !== "function") {
    throw new Error(
      `Cannot start a simple-mode session: kafkajs's Kafka client has no "${CREATE_CLUSTER}" factory; simple mode needs kafkajs 2.2.4`,
    );
  }
  const cluster: unknown = factory({
    allowAutoTopicCreation: false,
    isolationLevel: READ_COMMITTED,
    metadataMaxAge: 300_000,
  });
  const missing = CLUSTER_METHODS.filter((m) =>
    !isObject(cluster) || typeof cluster[m] !== "function"
  );
  if (missing.length > 0) {
    throw new Error(
      `Cannot start a simple-mode session: kafkajs's Cluster lacks ${
        missing.join(", ")
      }; simple mode needs kafkajs 2.2.4`,
    );
  }
  return cluster as InternalCluster;
}

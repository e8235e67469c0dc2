/**
 * One consumer's connection to the cluster through @platformatic/kafka: its
 * `Consumer` (group membership, fetch sessions, metadata) and the requests
 * the engine sends itself: Fetch, ListOffsets, OffsetFetch and OffsetCommit
 * with an explicit generation (the library's own `commit()` would rejoin and
 * commit under a newer generation, possibly for partitions no longer owned).
 *
 * @module
 */
import { Buffer } from "node:buffer";
import type {
  ConnectionPool,
  Consumer,
  ConsumerOptions as LibraryConsumerOptions,
} from "@platformatic/kafka";
import type { KafkaConfig } from "../../config/types.ts";
import type { Logger } from "../../log.ts";
import type { FetchLimits, PartitionOffset } from "../session.ts";
import { loadPlatformatic, type Platformatic } from "./library.ts";
import { type GroupSettings, joinOptions } from "./group_join.ts";
import { commitRejection } from "../commit_rejected.ts";
import { type CommittedOffset, fetchCommitted } from "./offset_fetch.ts";
import { callApi, callInternal } from "./node_call.ts";
import { errorIds } from "./error_ids.ts";
import { engineChecked } from "./lazy_validators.ts";
import type { FetchResponse } from "./fetch_response.ts";
import { fetchConnectionPool } from "./fetch_pool.ts";

export { errorIds, isRetriable } from "./error_ids.ts";
export type { FetchedPartition, FetchResponse } from "./fetch_response.ts";

/** The library's consumer (raw Buffers, no deserialisation). */
export type PlatformaticConsumer = Consumer<Buffer, Buffer, Buffer, Buffer>;

/** The assignor name kafkajs's default assignor uses: members of both engines then share a group. */
export const ASSIGNOR = "RoundRobinAssigner";
/** Heartbeat errors that mean the member is no longer in the group. */
const MEMBER_GONE = new Set(["UNKNOWN_MEMBER_ID", "ILLEGAL_GENERATION"]);
/** The error of a static member whose instance id another member took over. */
const FENCED_INSTANCE_ID = "FENCED_INSTANCE_ID";
/** Kafka's error code for a commit whose metadata is longer than the broker allows. */
const OFFSET_METADATA_TOO_LARGE = 12;
/** Kafka's isolation level that reads committed transactions only (the last stable offset). */
const READ_COMMITTED = 1;
/** ListOffsets timestamps. */
const EARLIEST = -2n;
const LATEST = -1n;

/** Options for {@linkcode PlatformaticClient.create}. */
export interface PlatformaticClientOptions {
  kafka: KafkaConfig;
  clientIdSuffix: string;
  group: string;
  topic: string;
  fetch: FetchLimits;
  /** The static member's group.instance.id, or null for a dynamic member (and in simple mode). */
  instanceId: string | null;
  /**
   * Balanced mode with the classic protocol: the library joins; null in
   * simple mode and with the consumer protocol (the library never joins).
   */
  membership: GroupSettings | null;
}

/** The library's consumer options. */
export type ConsumerOptions = LibraryConsumerOptions<Buffer, Buffer, Buffer, Buffer>;

/**
 * The library's `Consumer` options for a client: group, fetch limits, and in
 * balanced mode with the classic protocol the membership's timings. Marked
 * {@linkcode engineChecked}: they come from a checked configuration (group
 * timings from `groupTiming()`), so the library does not check them again.
 */
export function consumerOptions(
  options: PlatformaticClientOptions,
): ConsumerOptions & { protocols: Array<{ name: string; version: number }> } {
  const { kafka, membership } = options;
  return engineChecked({
    ...connectionOptions(kafka, options.clientIdSuffix),
    // A join retried after REBALANCE_IN_PROGRESS or an unknown member counts as an attempt.
    retries: 5,
    groupId: options.group,
    isolationLevel: READ_COMMITTED,
    maxWaitTime: options.fetch.maxWaitMs,
    maxBytes: options.fetch.maxBytes,
    autocommit: false,
    protocols: [{ name: ASSIGNOR, version: 0 }],
    ...(membership === null ? {} : {
      ...(options.instanceId === null ? {} : { groupInstanceId: options.instanceId }),
      sessionTimeout: membership.sessionTimeoutMs,
      rebalanceTimeout: membership.rebalanceTimeoutMs,
      heartbeatInterval: membership.heartbeatIntervalMs,
    }),
  });
}

/** A connected @platformatic/kafka consumer for one topic and group. */
export class PlatformaticClient {
  readonly consumer: PlatformaticConsumer;
  readonly topic: string;
  readonly group: string;
  #library: Platformatic;
  #fetch: FetchLimits;
  /**
   * The connections Fetches go on, apart from the consumer's own (commits,
   * heartbeats, offsets): a broker answers one connection's requests in
   * order, and a Fetch at the end of a partition waits up to `maxWaitMs` for
   * records, which would hold every request sent after it on its connection.
   */
  #fetchConnections: ConnectionPool;
  /** The static member's group.instance.id (sent with its commits and heartbeats), or null. */
  readonly instanceId: string | null;
  #membership: GroupSettings | null;

  private constructor(
    library: Platformatic,
    consumer: PlatformaticConsumer,
    options: PlatformaticClientOptions,
  ) {
    this.#library = library;
    this.consumer = consumer;
    this.topic = options.topic;
    this.group = options.group;
    this.#fetch = options.fetch;
    this.instanceId = options.instanceId;
    this.#membership = options.membership;
    this.#fetchConnections = fetchConnectionPool(
      library,
      consumer.clientId,
      connectionOptions(options.kafka, options.clientIdSuffix),
    );
  }

  /** Creates the consumer and loads the topic's metadata (fails when the topic does not exist). */
  static async create(options: PlatformaticClientOptions): Promise<PlatformaticClient> {
    const library = await loadPlatformatic();
    const consumer: PlatformaticConsumer = new library.Consumer<Buffer, Buffer, Buffer, Buffer>(
      consumerOptions(options),
    );
    const client = new PlatformaticClient(library, consumer, options);
    try {
      consumer.topics.track(options.topic);
      await client.metadata(true);
    } catch (error) {
      await consumer.close(true).catch(() => {});
      throw error;
    }
    return client;
  }

  /**
   * Joins the group with the classic protocol; the library rejoins by
   * itself after that. Resolves once the first join completed.
   */
  async joinGroup(): Promise<void> {
    if (this.#membership === null) {
      throw new Error(
        "Cannot join a group without its settings: this client is not a group member",
      );
    }
    await this.consumer.joinGroup(joinOptions(this.#membership));
  }

  /** The topic's partition ids, from the last metadata. */
  async partitions(): Promise<number[]> {
    const topic = (await this.metadata(false)).topics.get(this.topic);
    return Array.from({ length: topic?.partitionsCount ?? 0 }, (_, i) => i);
  }

  /** Cluster metadata of the topic (cached by the library unless `force`). */
  metadata(force: boolean): Promise<ClusterMetadata> {
    const symbol = this.#library.kMetadata;
    return new Promise((resolve, reject) => {
      const fn = Reflect.get(this.consumer, symbol) as MetadataFn;
      fn.call(this.consumer, { topics: [this.topic], forceUpdate: force }, (error, metadata) => {
        if (error) reject(error);
        else if (!metadata.topics.has(this.topic)) {
          reject(new Error(`Cannot read topic "${this.topic}": it does not exist`));
        } else resolve(metadata);
      });
    });
  }

  /**
   * Fetches `positions` from `node` (read committed: aborted transactions are
   * dropped), on connections that leave the records in the response's bytes
   * (fetch_pool.ts).
   */
  async fetch(node: number, positions: PartitionOffset[]): Promise<FetchResponse> {
    const metadata = await this.metadata(false);
    const topicId = metadata.topics.get(this.topic)!.id;
    const response = await this.consumer.fetch({
      node,
      connectionPool: this.#fetchConnections,
      maxWaitTime: this.#fetch.maxWaitMs,
      maxBytes: this.#fetch.maxBytes,
      minBytes: 1,
      isolationLevel: READ_COMMITTED,
      topics: [{
        topicId,
        partitions: positions.map(({ partition, offset }) => ({
          partition,
          fetchOffset: BigInt(offset),
          currentLeaderEpoch: -1,
          lastFetchedEpoch: -1,
          partitionMaxBytes: this.#fetch.maxBytesPerPartition,
        })),
      }],
    });
    return response as unknown as FetchResponse;
  }

  /** The topic's id in the metadata (Fetch responses name topics by id). */
  async topicId(): Promise<string> {
    return (await this.metadata(false)).topics.get(this.topic)!.id;
  }

  /** Each partition's leader node, grouped. */
  async leaders(partitions: number[]): Promise<Map<number, number[]>> {
    const topic = (await this.metadata(false)).topics.get(this.topic)!;
    const byNode = new Map<number, number[]>();
    for (const partition of partitions) {
      const leader = topic.partitions[partition]?.leader;
      if (leader === undefined || leader < 0) {
        throw Object.assign(new Error(`Partition ${partition} of "${this.topic}" has no leader`), {
          canRetry: true,
        });
      }
      byNode.set(leader, [...(byNode.get(leader) ?? []), partition]);
    }
    return byNode;
  }

  /** Log start offsets (`earliest`) or last stable offsets (`latest`). */
  async listOffsets(
    partitions: number[],
    at: "earliest" | "latest",
  ): Promise<Map<number, string>> {
    const offsets = await this.consumer.listOffsets({
      topics: [this.topic],
      partitions: { [this.topic]: partitions },
      timestamp: at === "earliest" ? EARLIEST : LATEST,
      isolationLevel: READ_COMMITTED,
    });
    const list = offsets.get(this.topic) ?? [];
    return new Map(partitions.map((p) => {
      const offset = list[p];
      if (offset === undefined) {
        throw new Error(`No ${at} offset for partition ${p} of "${this.topic}"`);
      }
      return [p, String(offset)];
    }));
  }

  /**
   * The group's committed offsets (null where none; see `committedOffset()`)
   * and their metadata, from its coordinator (the library's own
   * `listCommittedOffsets()` drops the metadata).
   */
  async committed(
    partitions: number[],
    logger?: Logger,
  ): Promise<Map<number, CommittedOffset>> {
    return await fetchCommitted(this, partitions, logger === undefined ? {} : { logger });
  }

  /**
   * Sends one request of API `name` (the highest version both sides speak)
   * to the group coordinator: `args(version)` are its arguments after the
   * connection. Rejects with the library's error (its ids: {@linkcode errorIds}).
   */
  async callCoordinator<T>(name: string, args: (version: number) => unknown[]): Promise<T> {
    return await callApi<T>(this.consumer, this.#library, await this.#coordinator(), name, args);
  }

  /**
   * Commits `offsets` under `generation` and `memberId` (-1 and "" for a
   * consumer outside the group); rejects unless every partition was applied,
   * with a `CommitRejectedError` when Kafka refused them for good.
   */
  async commit(generation: number, memberId: string, offsets: PartitionOffset[]): Promise<void> {
    if (offsets.length === 0) return;
    const response = await this.callCoordinator<CommitResponse>("OffsetCommit", () => [
      this.group,
      generation,
      memberId,
      this.instanceId,
      [{
        name: this.topic,
        partitions: offsets.map(({ partition, offset, metadata }) => ({
          partitionIndex: partition,
          committedOffset: BigInt(offset),
          committedLeaderEpoch: -1,
          committedMetadata: metadata ?? null,
        })),
      }],
    ]).catch((error: unknown) => {
      throw commitRejection(errorIds(error), {
        group: this.group,
        withoutMembership: generation === -1,
        cause: error,
      }) ?? error;
    });
    const failed = response.topics.flatMap((t) => t.partitions).filter((p) => p.errorCode !== 0);
    if (failed.some((p) => p.errorCode === OFFSET_METADATA_TOO_LARGE)) {
      throw commitRejection(["OFFSET_METADATA_TOO_LARGE"], {
        group: this.group,
        withoutMembership: generation === -1,
      })!;
    }
    if (failed.length > 0) {
      throw new Error(
        `Cannot commit partitions ${failed.map((p) => p.partitionIndex).join(", ")}: error code ${
          failed.map((p) => p.errorCode).join(", ")
        }`,
      );
    }
  }

  /**
   * Sends one Heartbeat for `generation` and `memberId`. Resolves with
   * "member" while the group knows the member (a rebalance in progress
   * included: that answer still keeps its session), "gone" when it does not,
   * "fenced" when another member took over this static member's instance id.
   */
  async heartbeat(generation: number, memberId: string): Promise<"member" | "gone" | "fenced"> {
    try {
      await this.callCoordinator(
        "Heartbeat",
        () => [this.group, generation, memberId, this.instanceId],
      );
      return "member";
    } catch (error) {
      const ids = errorIds(error);
      if (ids.includes(FENCED_INSTANCE_ID)) return "fenced";
      if (ids.some((id) => MEMBER_GONE.has(id))) return "gone";
      if (ids.includes("REBALANCE_IN_PROGRESS")) return "member";
      throw error;
    }
  }

  /** Takes `memberId` (with this static member's instance id, if any) out of the group. */
  async leaveGroup(memberId: string, reason: string): Promise<void> {
    await this.callCoordinator("LeaveGroup", () => [
      this.group,
      [{ memberId, groupInstanceId: this.instanceId, reason }],
    ]).catch((error: unknown) => {
      // Already out of the group (its session expired): nothing to leave.
      if (!errorIds(error).some((id) => MEMBER_GONE.has(id))) throw error;
    });
  }

  /**
   * Makes the library look its group coordinator up again (after a
   * coordinator error of a request sent here): one OffsetFetch, which
   * drops a coordinator that no longer is one and finds the new one.
   */
  async refreshCoordinator(): Promise<void> {
    await this.consumer.listCommittedOffsets({ topics: [{ topic: this.topic, partitions: [0] }] })
      .catch(() => {});
  }

  /** The node id of the group coordinator. */
  async coordinator(): Promise<number> {
    return await this.consumer.findGroupCoordinator();
  }

  /** A connection to the group coordinator. */
  async #coordinator(): Promise<unknown> {
    const node = await this.coordinator();
    const broker = (await this.metadata(false)).brokers.get(node);
    if (!broker) throw new Error(`The group coordinator ${node} is not in the metadata`);
    return await callInternal<unknown>(this.consumer, this.#library.kGetConnection, broker);
  }

  /**
   * Closes the consumer and every connection. A member that joined leaves
   * the group, unless it is static and `leave` is false: then it only stops
   * heartbeating and keeps its partitions until its session times out.
   */
  async close({ leave = true }: { leave?: boolean } = {}): Promise<void> {
    const memberId = this.consumer.memberId;
    if (this.instanceId !== null && memberId !== null) {
      // The library's LeaveGroup names the member id alone, which removes a
      // static member as well: forget the member id, so that it leaves
      // nothing, stops heartbeating, and closes without a LeaveGroup.
      this.consumer.memberId = null;
      await new Promise<void>((resolve) => this.consumer.leaveGroup(true, () => resolve()));
      if (leave) await this.leaveGroup(memberId, "its consumerd worker stopped");
    }
    await this.consumer.close(true);
    await this.#fetchConnections.close();
  }
}

/** The part of the library's cluster metadata used here. */
export interface ClusterMetadata {
  brokers: Map<number, unknown>;
  topics: Map<string, {
    id: string;
    partitionsCount: number;
    partitions: Array<{ leader: number } | undefined>;
  }>;
}
type MetadataFn = (
  options: { topics: string[]; forceUpdate: boolean },
  callback: (error: unknown, metadata: ClusterMetadata) => void,
) => void;
interface CommitResponse {
  topics: Array<{ partitions: Array<{ partitionIndex: number; errorCode: number }> }>;
}
/** An API of the library: its arguments, then a callback. */
/** The library's connection settings for consumers.yaml's `kafka:` section. */
export function connectionOptions(kafka: KafkaConfig, clientIdSuffix: string) {
  return {
    clientId: clientIdSuffix ? `${kafka.clientId}-${clientIdSuffix}` : kafka.clientId,
    bootstrapBrokers: kafka.brokers,
    connectTimeout: 3_000,
    retries: 2,
    retryDelay: 300,
    ...(kafka.ssl === false ? {} : { tls: { ...kafka.ssl } }),
    ...(kafka.sasl === null ? {} : {
      sasl: {
        mechanism: SASL[kafka.sasl.mechanism],
        username: kafka.sasl.username,
        password: kafka.sasl.password,
      },
    }),
  };
}

const SASL = {
  plain: "PLAIN",
  "scram-sha-256": "SCRAM-SHA-256",
  "scram-sha-512": "SCRAM-SHA-512",
} as const;

/**
 * Cluster administration the CLI, the dev script and the tests need:
 * topics, produced records, committed offsets and watermarks.
 *
 * @module
 */
import { Buffer } from "node:buffer";
import { type Admin, AssignerProtocol, type Producer } from "kafkajs";
import type { KafkaConfig } from "../../config/types.ts";
import { createKafka } from "./client.ts";
import { createTopicWithLeaders } from "./create_topic.ts";
import { createLogger } from "../../log.ts";
import { TopicClient } from "./topic_client.ts";

/** A partition's log start offset and high watermark. */
export interface PartitionWatermarks {
  partition: number;
  /** First offset still in the log. */
  low: string;
  /** Offset the next produced record will get. */
  high: string;
}

/** A record to produce. */
export interface OutgoingRecord {
  key?: string | Uint8Array | null;
  value: string | Uint8Array | null;
  partition?: number;
  /** A header given a list repeats, once per value. */
  headers?: Record<string, string | string[]>;
}

/** One member of a consumer group and the partitions it holds of each topic. */
export interface GroupMember {
  memberId: string;
  clientId: string;
  /** Topic → partitions, sorted. */
  assignment: Record<string, number[]>;
}

/** A consumer group's state (`Stable`, `PreparingRebalance`, …) and members. */
export interface GroupDescription {
  state: string;
  members: GroupMember[];
}

/** A connected admin client with a lazily connected producer. */
export class KafkaAdmin {
  #admin: Admin;
  #producer: Producer | null = null;
  #kafka: ReturnType<typeof createKafka>;
  #config: KafkaConfig;

  private constructor(kafka: ReturnType<typeof createKafka>, config: KafkaConfig) {
    this.#kafka = kafka;
    this.#config = config;
    this.#admin = kafka.admin();
  }

  /** Connects to the cluster. */
  static async connect(config: KafkaConfig, clientIdSuffix = "admin"): Promise<KafkaAdmin> {
    const admin = new KafkaAdmin(createKafka(config, { clientIdSuffix }), config);
    await admin.#admin.connect();
    return admin;
  }

  /** Topic names in the cluster. */
  listTopics(): Promise<string[]> {
    return this.#admin.listTopics();
  }

  /** Creates a topic unless it exists; returns true if it created it. */
  async ensureTopic(
    topic: string,
    { partitions = 3 }: { partitions?: number } = {},
  ): Promise<boolean> {
    if ((await this.#admin.listTopics()).includes(topic)) return false;
    return await createTopicWithLeaders(this.#admin, topic, partitions);
  }

  /** Deletes topics (missing ones are ignored). */
  async deleteTopics(topics: string[]): Promise<void> {
    const existing = new Set(await this.#admin.listTopics());
    const present = topics.filter((t) => existing.has(t));
    if (present.length > 0) await this.#admin.deleteTopics({ topics: present });
  }

  /** Produces records, acknowledged by all in-sync replicas. */
  async produce(topic: string, records: OutgoingRecord[]): Promise<void> {
    if (this.#producer === null) {
      // Idempotent: a request retried after a timeout does not write its records twice.
      this.#producer = this.#kafka.producer({ allowAutoTopicCreation: false, idempotent: true });
      await this.#producer.connect();
    }
    const chunk = 5000;
    for (let i = 0; i < records.length; i += chunk) {
      await this.#producer.send({
        topic,
        acks: -1,
        messages: records.slice(i, i + chunk).map((r) => ({
          key: r.key === undefined || r.key === null ? null : toBuffer(r.key),
          value: r.value === null ? null : toBuffer(r.value),
          ...(r.partition === undefined ? {} : { partition: r.partition }),
          ...(r.headers ? { headers: r.headers } : {}),
        })),
      });
    }
  }

  /** Each partition's log start offset and high watermark. */
  async watermarks(topic: string): Promise<PartitionWatermarks[]> {
    const offsets = await this.#admin.fetchTopicOffsets(topic);
    return offsets
      .map((o) => ({ partition: o.partition, low: o.low, high: o.high }))
      .sort((a, b) => a.partition - b.partition);
  }

  /** The group's committed offsets for a topic (null where none). */
  async committed(
    group: string,
    topic: string,
  ): Promise<Array<{ partition: number; offset: string | null }>> {
    const [result] = await this.#admin.fetchOffsets({ groupId: group, topics: [topic] });
    return (result?.partitions ?? [])
      .map((p) => ({ partition: p.partition, offset: p.offset === "-1" ? null : p.offset }))
      .sort((a, b) => a.partition - b.partition);
  }

  /** The group's state and who holds which partitions (the coordinator's view). */
  async describeGroup(group: string): Promise<GroupDescription> {
    const { groups: [described] } = await this.#admin.describeGroups([group]);
    if (described === undefined) return { state: "Dead", members: [] };
    return {
      state: described.state,
      members: described.members.map((m) => {
        const decoded = m.memberAssignment.length === 0
          ? null
          : AssignerProtocol.MemberAssignment.decode(m.memberAssignment);
        const assignment: Record<string, number[]> = {};
        for (const [topic, partitions] of Object.entries(decoded?.assignment ?? {})) {
          assignment[topic] = [...partitions].sort((a, b) => a - b);
        }
        return { memberId: m.memberId, clientId: m.clientId, assignment };
      }),
    };
  }

  /**
   * Sets a group's committed offsets (the group must have no active members): a standalone
   * commit, as {@linkcode KafkaAdmin.commitOffsets}. kafkajs's own `setOffsets` joins the group
   * as a consumer and waits for its first (paused, so empty) fetch: about 5 s each.
   */
  async setOffsets(
    group: string,
    topic: string,
    offsets: Array<{ partition: number; offset: string }>,
  ): Promise<void> {
    await this.commitOffsets(group, topic, offsets);
  }

  /**
   * For each partition, the offset of the first record whose timestamp is at
   * or after `ms`, or null when there is none.
   */
  async offsetsForTime(
    topic: string,
    ms: number,
  ): Promise<Array<{ partition: number; offset: string | null }>> {
    const result = await this.#admin.fetchTopicOffsetsByTimestamp(topic, ms);
    return result
      .map((r) => ({ partition: r.partition, offset: BigInt(r.offset) < 0n ? null : r.offset }))
      .sort((a, b) => a.partition - b.partition);
  }

  /** A group's state (`Empty`, `Stable`, `Dead`, …) and how many members it has. */
  async groupState(group: string): Promise<{ state: string; members: number }> {
    const { groups } = await this.#admin.describeGroups([group]);
    const g = groups[0];
    return { state: g?.state ?? "Dead", members: g?.members.length ?? 0 };
  }

  /**
   * Commits a group's offsets the way Kafka's own tools do: as a standalone
   * client, without joining the group. Kafka refuses it while the group has
   * active members, so a consumer that joined meanwhile is never overwritten.
   */
  async commitOffsets(
    group: string,
    topic: string,
    offsets: Array<{ partition: number; offset: string }>,
  ): Promise<void> {
    const client = await TopicClient.connect({
      kafka: this.#config,
      clientIdSuffix: "admin-commit",
      topic,
      logger: createLogger({ level: "error" }),
    });
    try {
      await client.commit(group, offsets);
    } finally {
      await client.disconnect().catch(() => {});
    }
  }

  /** Deletes a partition's records before `offset`. */
  async deleteRecords(
    topic: string,
    partitions: Array<{ partition: number; offset: string }>,
  ): Promise<void> {
    // kafkajs looks the leaders up before it loads the topic's metadata: load it first.
    await this.#admin.fetchTopicOffsets(topic);
    await this.#admin.deleteTopicRecords({ topic, partitions });
  }

  /** Disconnects the admin client and the producer. */
  async close(): Promise<void> {
    await this.#producer?.disconnect();
    await this.#admin.disconnect();
  }
}

function toBuffer(value: string | Uint8Array): Buffer | string {
  return typeof value === "string"
    ? value
    : Buffer.from(value.buffer, value.byteOffset, value.byteLength);
}

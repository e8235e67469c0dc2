/**
 * The few admin operations the benchmark needs: topics, their sizes, and
 * removing the groups a run created.
 *
 * @module
 */
import { Buffer } from "node:buffer";
import { type Admin, Kafka, logLevel } from "kafkajs";
import { createTopicWithLeaders } from "../src/kafka/kafkajs/create_topic.ts";

/** Records per produce request of {@linkcode BenchCluster.produce}. */
export const PRODUCE_CHUNK = 5_000;

/** A connected admin client for the benchmark's topics and groups. */
export class BenchCluster {
  #kafka: Kafka;
  #admin: Admin;

  private constructor(kafka: Kafka, admin: Admin) {
    this.#kafka = kafka;
    this.#admin = admin;
  }

  /**
   * Connects to the brokers.
   *
   * @example
   * ```ts
   * const cluster = await BenchCluster.connect(["127.0.0.1:9092"]);
   * ```
   */
  static async connect(brokers: string[]): Promise<BenchCluster> {
    const kafka = new Kafka({ clientId: "consumerd-bench", brokers, logLevel: logLevel.ERROR });
    const admin = kafka.admin();
    await admin.connect();
    return new BenchCluster(kafka, admin);
  }

  /** Partition count of a topic, or null when it does not exist. */
  async partitions(topic: string): Promise<number | null> {
    if (!(await this.#admin.listTopics()).includes(topic)) return null;
    const { topics } = await this.#admin.fetchTopicMetadata({ topics: [topic] });
    return topics[0]?.partitions.length ?? null;
  }

  /** Records a topic holds: the sum over its partitions of high watermark − log start. */
  async records(topic: string): Promise<number> {
    const offsets = await this.#admin.fetchTopicOffsets(topic);
    return offsets.reduce((sum, o) => sum + Number(o.high) - Number(o.low), 0);
  }

  /** Messages of `topic` below `group`'s committed offsets (partitions without one count 0). */
  async committed(group: string, topic: string): Promise<number> {
    const [offsets] = await this.#admin.fetchOffsets({ groupId: group, topics: [topic] });
    return (offsets?.partitions ?? []).reduce((sum, p) => sum + Math.max(0, Number(p.offset)), 0);
  }

  /** Creates a topic (it must not exist) and waits for its leaders. */
  async createTopic(topic: string, partitions: number): Promise<void> {
    await createTopicWithLeaders(this.#admin, topic, partitions);
  }

  /**
   * Produces `count` records of `recordBytes` bytes each, in requests of
   * {@linkcode PRODUCE_CHUNK} records; with `keys`, record i has the key
   * `key-<i mod keys>` (Kafka's default partitioner spreads them), else none.
   */
  async produce(
    topic: string,
    count: number,
    recordBytes: number,
    { keys = 0 }: { keys?: number } = {},
  ): Promise<void> {
    const producer = this.#kafka.producer({ allowAutoTopicCreation: false });
    await producer.connect();
    try {
      const value = Buffer.alloc(recordBytes, "x");
      for (let start = 0; start < count; start += PRODUCE_CHUNK) {
        const length = Math.min(PRODUCE_CHUNK, count - start);
        await producer.send({
          topic,
          acks: -1,
          messages: Array.from({ length }, (_, i) => ({
            key: keys > 0 ? `key-${(start + i) % keys}` : null,
            value,
          })),
        });
      }
    } finally {
      await producer.disconnect();
    }
  }

  /** Deletes topics; missing ones are ignored. */
  async deleteTopics(topics: string[]): Promise<void> {
    const existing = new Set(await this.#admin.listTopics());
    const present = topics.filter((t) => existing.has(t));
    if (present.length > 0) await this.#admin.deleteTopics({ topics: present });
  }

  /** Deletes consumer groups, best effort (a group with live members stays). */
  async deleteGroups(groups: string[]): Promise<void> {
    if (groups.length === 0) return;
    await this.#admin.deleteGroups(groups).catch(() => {});
  }

  /** Disconnects. */
  async close(): Promise<void> {
    await this.#admin.disconnect();
  }
}

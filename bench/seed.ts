/**
 * Seeding the benchmark topics with Kafka's own ProducerPerformance tool.
 * A topic is named after its size (`bench-100b-1000000`) and reused when it
 * already holds exactly that many records; otherwise it is made again.
 *
 * @module
 */
import { kafkaTool } from "../scripts/broker.ts";
import type { BenchCluster } from "./cluster.ts";

/** What to seed: `count` records of `recordBytes` bytes each. */
export interface TopicSize {
  recordBytes: number;
  count: number;
}

/** A seeded topic. */
export interface SeededTopic extends TopicSize {
  topic: string;
  /** False when an earlier run's topic was reused. */
  created: boolean;
  /** The slowest rate a run may read at before it times out, msg/s (default 5,000). */
  minRate?: number;
}

/** Partitions of every benchmark topic. */
export const PARTITIONS = 3;

/**
 * The topic name for a size, e.g. `bench-100b-1000000` or `bench-1kib-300000`.
 *
 * @example
 * ```ts
 * topicName({ recordBytes: 1024, count: 300_000 }); // "bench-1kib-300000"
 * ```
 */
export function topicName({ recordBytes, count }: TopicSize): string {
  const size = recordBytes % 1024 === 0 ? `${recordBytes / 1024}kib` : `${recordBytes}b`;
  return `bench-${size}-${count}`;
}

/**
 * Whether `topic` already holds exactly `count` records in
 * {@linkcode PARTITIONS} partitions; if not, it is (deleted and) created
 * empty, ready to be seeded.
 */
export async function reuseOrCreate(
  cluster: BenchCluster,
  topic: string,
  count: number,
  log: (line: string) => void,
): Promise<boolean> {
  const partitions = await cluster.partitions(topic);
  if (partitions === PARTITIONS && await cluster.records(topic) === count) {
    log(`reusing ${topic} (${count} records)`);
    return true;
  }
  if (partitions !== null) {
    log(`${topic} does not hold ${count} records in ${PARTITIONS} partitions; seeding again`);
    await cluster.deleteTopics([topic]);
    await waitUntil(async () => await cluster.partitions(topic) === null, `${topic} deleted`);
  }
  await cluster.createTopic(topic, PARTITIONS);
  return false;
}

/** Throws unless a freshly seeded topic holds `count` records. */
export async function verifySeeded(
  cluster: BenchCluster,
  topic: string,
  count: number,
): Promise<void> {
  const records = await cluster.records(topic);
  if (records !== count) {
    throw new Error(`Seeding ${topic} produced ${records} records, expected ${count}`);
  }
}

/** Seeds a topic unless it already holds the right records; see the module doc. */
export async function seedTopic(
  cluster: BenchCluster,
  size: TopicSize,
  { brokers, log }: { brokers: string[]; log: (line: string) => void },
): Promise<SeededTopic> {
  const topic = topicName(size);
  if (await reuseOrCreate(cluster, topic, size.count, log)) {
    return { ...size, topic, created: false };
  }
  log(`seeding ${topic}: ${size.count} records of ${size.recordBytes} B with producer-perf`);
  const result = await kafkaTool("producer-perf", [
    "--topic",
    topic,
    "--num-records",
    String(size.count),
    "--record-size",
    String(size.recordBytes),
    "--throughput",
    "-1",
    "--producer-props",
    `bootstrap.servers=${brokers.join(",")}`,
    "acks=1",
    "linger.ms=5",
    "batch.size=65536",
  ]);
  const summary = result.stdout.trim().split("\n").at(-1) ?? "";
  if (result.code !== 0) {
    throw new Error(`producer-perf failed (exit ${result.code}):\n${result.stderr}${summary}`);
  }
  log(`  ${summary}`);
  await verifySeeded(cluster, topic, size.count);
  return { ...size, topic, created: true };
}

async function waitUntil(condition: () => Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if (await condition()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`Timed out waiting until ${what}`);
}

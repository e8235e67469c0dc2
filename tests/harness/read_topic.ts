/**
 * Reads a whole topic back: up to its high watermarks when called, with a
 * kafkajs consumer in a group of its own (isolation read_committed); or as
 * Kafka's own console consumer reads it at a chosen isolation level.
 *
 * @module
 */
import { createKafka } from "../../src/kafka/kafkajs/client.ts";
import type { KafkaAdmin } from "../../src/kafka/kafkajs/admin.ts";
import { BROKERS, TEST_KAFKA, uniqueName } from "./kafka.ts";
import { kafkaTool } from "../../scripts/broker.ts";

/** A record as read back, text decoded. */
export interface ReadRecord {
  partition: number;
  offset: string;
  key: string | null;
  value: string | null;
  /** Each header's values, in order. */
  headers: Record<string, string[]>;
}

/** Every record of `topic` below its high watermarks as they are now, by partition and offset. */
export async function readTopic(
  admin: KafkaAdmin,
  topic: string,
  { timeoutMs = 30_000 }: { timeoutMs?: number } = {},
): Promise<ReadRecord[]> {
  const ends = new Map(
    (await admin.watermarks(topic)).map((w) => [w.partition, BigInt(w.high)]),
  );
  const remaining = () =>
    [...ends.entries()].filter(([p, high]) => (next.get(p) ?? 0n) < high).length;
  const next = new Map<number, bigint>();
  const records: ReadRecord[] = [];
  if (remaining() === 0) return records;
  const consumer = createKafka(TEST_KAFKA, { clientIdSuffix: "read-topic" })
    .consumer({ groupId: uniqueName("read"), readUncommitted: false });
  let done!: () => void;
  const finished = new Promise<void>((resolve) => (done = resolve));
  try {
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachMessage: ({ partition, message }) => {
        const offset = BigInt(message.offset);
        if (offset < (ends.get(partition) ?? 0n)) {
          const headers: Record<string, string[]> = {};
          for (const [name, value] of Object.entries(message.headers ?? {})) {
            const values = Array.isArray(value) ? value : [value];
            headers[name] = values.map((v) => String(v));
          }
          records.push({
            partition,
            offset: message.offset,
            key: message.key === null ? null : message.key.toString(),
            value: message.value === null ? null : message.value.toString(),
            headers,
          });
        }
        next.set(partition, offset + 1n);
        if (remaining() === 0) done();
        return Promise.resolve();
      },
    });
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      finished,
      new Promise((_, reject) =>
        timer = setTimeout(
          () => reject(new Error(`read ${records.length} records of ${topic}, not all`)),
          timeoutMs,
        )
      ),
    ]).finally(() => clearTimeout(timer));
  } finally {
    await consumer.disconnect();
  }
  return records.sort((a, b) => a.partition - b.partition || Number(a.offset) - Number(b.offset));
}

/** The values of `topic`, in order, as a consumer with `isolation` reads them (Kafka's console consumer). */
export async function readValues(
  topic: string,
  isolation: "read_committed" | "read_uncommitted",
): Promise<string[]> {
  return (await readBack(topic, isolation, { idleMs: 3000 })).map((r) => r.value);
}

/** A record as the console consumer printed it (text; headers by name, last value wins). */
export interface ReadBack {
  partition: number;
  offset: string;
  headers: Record<string, string>;
  key: string | null;
  value: string;
}

/**
 * Every record of `topic` a consumer with `isolation` reads. With
 * `maxMessages` it stops after that many; without, once nothing came for
 * `idleMs` (a transactional topic's offsets include commit markers and
 * aborted records, so its watermarks do not say how many there are).
 */
export async function readBack(
  topic: string,
  isolation: "read_committed" | "read_uncommitted",
  { maxMessages, idleMs = 10_000 }: { maxMessages?: number; idleMs?: number } = {},
): Promise<ReadBack[]> {
  const properties = ["partition", "offset", "headers", "key", "value"]
    .flatMap((field) => ["--property", `print.${field}=true`]);
  const out = await kafkaTool("console-consumer", [
    "--bootstrap-server",
    BROKERS[0]!,
    "--topic",
    topic,
    "--from-beginning",
    "--isolation-level",
    isolation,
    "--timeout-ms",
    String(idleMs),
    ...(maxMessages === undefined ? [] : ["--max-messages", String(maxMessages)]),
    ...properties,
  ]);
  const records = parseReadBack(out.stdout);
  if (maxMessages !== undefined && records.length !== maxMessages) {
    throw new Error(
      `Read ${records.length} of the ${maxMessages} records in ${topic}:\n${out.stderr}`,
    );
  }
  return records;
}

/**
 * Parses the console consumer's lines
 * `Partition:<p>\tOffset:<o>\t<headers>\t<key>\t<value>`, where headers
 * are `name:value,…` or `NO_HEADERS` and a missing key is `null`. A header
 * value holding a comma is cut there (the soak's own headers hold none).
 */
export function parseReadBack(stdout: string): ReadBack[] {
  const records: ReadBack[] = [];
  for (const line of stdout.split("\n")) {
    const match = line.match(/^Partition:(\d+)\tOffset:(\d+)\t([^\t]*)\t([^\t]*)\t(.*)$/);
    if (match === null) continue;
    const [, partition, offset, headerText, key, value] = match as unknown as string[];
    const headers: Record<string, string> = {};
    if (headerText !== "NO_HEADERS") {
      for (const pair of headerText!.split(",")) {
        const colon = pair.indexOf(":");
        if (colon > 0) headers[pair.slice(0, colon)] = pair.slice(colon + 1);
      }
    }
    records.push({
      partition: Number(partition),
      offset: offset!,
      headers,
      key: key === "null" ? null : key!,
      value: value!,
    });
  }
  return records;
}

/**
 * Reads a topic back the way a downstream consumer would, with Kafka's own
 * console consumer at a chosen isolation level: partition, offset, headers,
 * key and value of every record it returns.
 *
 * @module
 */
import { kafkaTool } from "../../scripts/broker.ts";
import { BROKERS } from "../harness/kafka.ts";
import type { DeadLetterCopy } from "./checker.ts";

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

/**
 * A dead-letter copy's source partition and offset (consumerd's headers)
 * and the sequence number in its value; none for a record without them.
 */
export function deadLetterCopy(record: ReadBack): DeadLetterCopy[] {
  const partition = record.headers["consumerd.source.partition"];
  const offset = record.headers["consumerd.source.offset"];
  if (partition === undefined || offset === undefined) return [];
  const seq = record.value.trim();
  return [{ partition: Number(partition), offset, seq: /^\d+$/.test(seq) ? Number(seq) : null }];
}

/**
 * What each engine hands a handler is what was produced, field by field:
 * keys and values (null, empty, 200 KB, a response read in many socket
 * reads), repeated headers, timestamps, in batches of every codec the
 * engine reads, read from a committed offset inside a batch (the
 * broker sends the whole batch; the records before the offset are not
 * delivered). The platformatic engine parses Fetch responses itself: this
 * holds its reading against the broker's bytes.
 *
 * @module
 */
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { compressionsAlgorithms, Producer } from "@platformatic/kafka";
import { BROKERS, ENGINES, uniqueName, waitFor, withTopic } from "../harness/kafka.ts";
import { fixtureHandler } from "../harness/daemon.ts";
import { startLocalWorker } from "../harness/worker_loop.ts";
import type { SeenFields } from "../fixtures/handlers/record_fields.ts";

const HANDLER = fixtureHandler("record_fields.ts");
const PER_BATCH = 20;
/** The committed offset the consumers start from: inside the first batch. */
const START = 7;
const BASE_TIME = 1_600_000_000_000;

const hex = (bytes: Buffer) => bytes.toString("hex");

/** Record `i` of a batch sent with `codec`, and the fields a handler should see for it. */
function record(codec: string, i: number, offset: number) {
  const key = i % 3 === 0 ? null : Buffer.from(`${codec}-key-${i}`);
  const value = i % 5 === 0
    ? null
    : i % 7 === 0
    ? Buffer.alloc(0)
    : i === 11
    ? Buffer.alloc(200_000, i)
    : Buffer.from(`${codec}-value-${i}`.repeat(1 + (i % 4)));
  const headers = new Map<Buffer, Buffer>();
  if (i % 2 === 0) {
    headers.set(Buffer.from("trace"), Buffer.from(`t-${i}`));
    headers.set(Buffer.from("trace"), Buffer.from("again")); // a second key object: repeated
    headers.set(Buffer.from("codec"), Buffer.from(codec));
  }
  const timestamp = BigInt(BASE_TIME + offset * 1000 - (i % 2) * 500);
  const expected: Omit<SeenFields, "topic"> = {
    partition: 0,
    offset: String(offset),
    key: key === null ? null : hex(key),
    value: value === null ? null : hex(value),
    headers: i % 2 === 0
      ? {
        trace: [hex(Buffer.from(`t-${i}`)), hex(Buffer.from("again"))],
        codec: [hex(Buffer.from(codec))],
      }
      : {},
    timestamp: String(timestamp),
  };
  return { message: { key, value, headers, timestamp }, expected };
}

for (const engine of ENGINES) {
  Deno.test(`${engine}: a handler gets every field as produced, in batches of every codec, from an offset inside a batch`, async () => {
    const { seen } = await import(HANDLER);
    await withTopic({ partitions: 1 }, async ({ topic, admin }) => {
      // kafkajs reads gzip only (docs/engines.md).
      const codecs = Object.entries(compressionsAlgorithms)
        .filter(([name, codec]) =>
          codec.available && (engine !== "kafkajs" || name === "gzip" || name === "none")
        )
        .map(([name]) => name);
      const producer = new Producer({ clientId: "fields", bootstrapBrokers: BROKERS });
      const expected: Array<Omit<SeenFields, "topic">> = [];
      try {
        for (const codec of codecs) {
          const records = Array.from(
            { length: PER_BATCH },
            (_, i) => record(codec, i, expected.length + i),
          );
          await producer.send({
            messages: records.map(({ message }) => ({
              topic,
              partition: 0,
              ...(message.key === null ? {} : { key: message.key }),
              ...(message.value === null ? {} : { value: message.value }),
              headers: message.headers,
              timestamp: message.timestamp,
            })),
            compression: codec as "none",
          });
          expected.push(...records.map((r) => r.expected));
        }
      } finally {
        await producer.close();
      }
      const group = uniqueName("g");
      await admin.setOffsets(group, topic, [{ partition: 0, offset: String(START) }]);
      const worker = await startLocalWorker({ group, topic, handler: HANDLER }, { engine });
      try {
        const mine = () => (seen as SeenFields[]).filter((s) => s.topic === topic);
        await waitFor(() => mine().length >= expected.length - START, {
          what: `${expected.length - START} messages handled`,
        });
        const got = mine().map(({ topic: _, ...fields }) => fields);
        assert.equal(got.length, expected.length - START, "each message once");
        assert.deepEqual(got, expected.slice(START));
        assert.ok(codecs.length >= (engine === "kafkajs" ? 2 : 4), `codecs: ${codecs.join(", ")}`);
      } finally {
        await worker.stop();
      }
    });
  });
}

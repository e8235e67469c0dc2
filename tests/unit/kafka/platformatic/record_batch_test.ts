import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import * as library from "@platformatic/kafka";
import {
  type FetchResponse,
  parseFetchResponse,
  readBatches,
} from "../../../../src/kafka/platformatic/fetch_response.ts";
import { decompressor, fetchParser } from "../../../../src/kafka/platformatic/fetch_pool.ts";
import { errorIds } from "../../../../src/kafka/platformatic/error_ids.ts";
import { CorruptBatchError, RecordBatch } from "../../../../src/kafka/platformatic/record_batch.ts";
import {
  type BatchSpec,
  encodeBatch,
  encodeBatchWith,
  type RecordSpec,
  recordsSection,
  unsignedVarint,
  zigzag,
} from "./batch_bytes.ts";
import type { Platformatic } from "../../../../src/kafka/platformatic/library.ts";

const platformatic = library as unknown as Platformatic;
const decompress = decompressor(platformatic);
const noCodec = (): never => {
  throw new Error("not compressed");
};

/** A deterministic pseudo-random source. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

function bytesOf(next: () => number, max: number): Uint8Array | null {
  if (next() < 0.15) return null;
  return Uint8Array.from({ length: Math.floor(next() * max) }, () => Math.floor(next() * 256));
}

/** Records with every shape a field can take: nulls, empties, multi-byte lengths, headers. */
function randomRecords(next: () => number, count: number): RecordSpec[] {
  return Array.from({ length: count }, (_, i) => ({
    offsetDelta: i,
    timestampDelta: next() < 0.1
      ? -BigInt(Math.floor(next() * 1e6))
      : BigInt(Math.floor(next() * 2 ** 40)),
    key: bytesOf(next, next() < 0.1 ? 300 : 20),
    value: bytesOf(next, next() < 0.05 ? 20_000 : 200),
    headers: Array.from(
      { length: next() < 0.6 ? 0 : Math.floor(next() * 4) },
      () => [bytesOf(next, 10), bytesOf(next, 30)] as [Uint8Array | null, Uint8Array | null],
    ),
  }));
}

/** The library's own reading of the same bytes. */
function libraryBatches(bytes: Buffer) {
  return platformatic.readRecordsBatches(platformatic.Reader.from(bytes));
}

/** A record as both readers give it, without the library's length field. */
function comparable(
  record: {
    attributes: number;
    timestampDelta: bigint;
    offsetDelta: number;
    key: unknown;
    value: unknown;
    headers: unknown;
  },
) {
  const { attributes, timestampDelta, offsetDelta, key, value, headers } = record;
  return { attributes, timestampDelta, offsetDelta, key, value, headers };
}

function assertSameAsLibrary(bytes: Buffer) {
  const ours = readBatches(bytes, decompress);
  const theirs = libraryBatches(bytes);
  assert.equal(ours.length, theirs.length);
  ours.forEach((batch, b) => {
    const expected = theirs[b]!;
    for (
      const field of [
        "firstOffset",
        "lastOffsetDelta",
        "attributes",
        "firstTimestamp",
        "maxTimestamp",
        "producerId",
      ] as const
    ) {
      assert.deepEqual(batch[field], expected[field], field);
    }
    assert.equal(batch.size, expected.records.length);
    assert.deepEqual(batch.records.map(comparable), expected.records.map(comparable));
  });
}

Deno.test("readBatches() reads what @platformatic/kafka reads, field by field", () => {
  const next = random(7);
  const specs: BatchSpec[] = [];
  let offset = 0n;
  for (let b = 0; b < 40; b++) {
    const records = randomRecords(next, 1 + Math.floor(next() * 60));
    specs.push({ firstOffset: offset, firstTimestamp: BigInt(Date.now()), records });
    offset += BigInt(records.length);
  }
  assertSameAsLibrary(Buffer.concat(specs.map(encodeBatch)));
});

Deno.test("readBatches() decompresses every codec the library has, as the library does", () => {
  const next = random(11);
  for (const [name, codec] of Object.entries(platformatic.compressionsAlgorithms)) {
    if (name === "none" || !codec.available) continue;
    const spec: BatchSpec = {
      firstOffset: 100n,
      attributes: codec.bitmask,
      records: randomRecords(next, 50),
    };
    const section = codec.compressSync(recordsSection(spec)) as Uint8Array;
    assertSameAsLibrary(encodeBatchWith(spec, Buffer.from(section)));
  }
});

Deno.test("readBatches() leaves out a batch the response cut short", () => {
  const one = encodeBatch({
    firstOffset: 0n,
    records: [{ offsetDelta: 0, value: Buffer.from("a") }],
  });
  const two = encodeBatch({
    firstOffset: 1n,
    records: [{ offsetDelta: 0, value: Buffer.from("b") }],
  });
  for (let cut = 0; cut < two.length; cut++) {
    const batches = readBatches(Buffer.concat([one, two.subarray(0, cut)]), noCodec);
    assert.equal(batches.length, 1, `cut at ${cut}`);
    assert.equal(batches[0]!.value(0)!.toString(), "a");
  }
});

Deno.test("a record batch refuses an unknown codec, an old format and records that overrun it", () => {
  const spec: BatchSpec = {
    firstOffset: 5n,
    records: [{ offsetDelta: 0, value: Buffer.from("abc") }],
  };
  assert.throws(
    () =>
      readBatches(encodeBatchWith({ ...spec, attributes: 6 }, recordsSection(spec)), decompress),
    /Unsupported compression algorithm with bitmask 6/,
  );
  const old = encodeBatch(spec);
  old.writeInt8(1, 16);
  assert.throws(
    () => readBatches(old, noCodec),
    /offset 5 is in message format v1; only v2 is read/,
  );
  // More records claimed than the bytes can hold.
  assert.throws(
    () => readBatches(encodeBatch({ ...spec, count: 1000 }), noCodec)[0]!.size,
    CorruptBatchError,
  );
  // A value longer than its record.
  const section = Buffer.from([...zigzag(6), 0, 0, 0, ...zigzag(-1), ...zigzag(50), 1]);
  assert.throws(
    () => readBatches(encodeBatchWith(spec, section), noCodec)[0]!.size,
    /Record 0 of the record batch at offset 5 does not match its length/,
  );
});

Deno.test("a damaged record batch is refused or read within its own bytes, never past them", () => {
  const next = random(3);
  const spec: BatchSpec = { firstOffset: 0n, records: randomRecords(next, 30) };
  const good = encodeBatch(spec);
  for (let trial = 0; trial < 3000; trial++) {
    const bad = Buffer.from(good);
    for (let flips = 1 + Math.floor(next() * 3); flips > 0; flips--) {
      bad[61 + Math.floor(next() * (bad.length - 61))] = Math.floor(next() * 256);
    }
    // Framed inside a larger buffer: a view past the batch would see these bytes.
    const framed = Buffer.concat([bad, Buffer.alloc(64, 0xee)]);
    let batch: RecordBatch;
    try {
      batch = readBatches(framed, noCodec)[0]!;
      batch.size;
    } catch (error) {
      assert.ok(error instanceof CorruptBatchError, String(error));
      continue;
    }
    for (let i = 0; i < batch.size; i++) {
      for (const part of [batch.key(i), batch.value(i), ...batch.headers(i).flat()]) {
        if (part === null) continue;
        assert.ok(
          part.byteOffset + part.length <= framed.byteOffset + bad.length,
          "a view past the batch",
        );
      }
    }
  }
});

/** Writes the flexible-version fields of a Fetch response. */
class Writer {
  bytes: number[] = [];
  #fixed(size: number, write: (b: Buffer) => unknown) {
    const b = Buffer.alloc(size);
    write(b);
    this.bytes.push(...b);
    return this;
  }
  int16(v: number) {
    return this.#fixed(2, (b) => b.writeInt16BE(v));
  }
  int32(v: number) {
    return this.#fixed(4, (b) => b.writeInt32BE(v));
  }
  int64(v: bigint) {
    return this.#fixed(8, (b) => b.writeBigInt64BE(v));
  }
  uvarint(v: number) {
    this.bytes.push(...unsignedVarint(v));
    return this;
  }
  raw(bytes: Uint8Array) {
    this.bytes.push(...bytes);
    return this;
  }
  string(s: string) {
    const b = Buffer.from(s);
    return this.uvarint(b.length + 1).raw(b);
  }
  tagged(fields: Array<[number, Writer]> = []) {
    this.uvarint(fields.length);
    for (const [tag, w] of fields) {
      this.uvarint(tag).uvarint(w.bytes.length).raw(Uint8Array.from(w.bytes));
    }
    return this;
  }
  buffer() {
    return Buffer.from(this.bytes);
  }
}

/** Options of {@linkcode fetchResponseBytes}'s first partition. */
interface FirstPartition {
  errorCode?: number;
  /** Its aborted transactions (producer id, first offset). */
  aborted?: Array<[bigint, bigint]>;
}

/**
 * A Fetch response of one topic, two partitions: the first with `records`,
 * Kafka's tagged fields as Kafka writes them (a struct ends with its own
 * tagged fields) and an unknown tag; the second with an error and no
 * records.
 */
function fetchResponseBytes(
  version: number,
  records: Buffer,
  { errorCode = 0, aborted = [[7n, 3n]] }: FirstPartition = {},
): Buffer {
  const w = new Writer().int32(7).int16(0).int32(1234).uvarint(2); // throttle, error, session, 1 topic
  if (version >= 13) w.raw(Buffer.from("00112233445566778899aabbccddeeff", "hex"));
  else w.string("orders");
  w.uvarint(3); // 2 partitions
  w.int32(0).int16(errorCode).int64(99n).int64(98n).int64(1n).uvarint(aborted.length + 1);
  for (const [producerId, firstOffset] of aborted) w.int64(producerId).int64(firstOffset).tagged();
  w.int32(-1)
    .uvarint(records.length + 1).raw(records)
    .tagged([
      [0, new Writer().int32(4).int64(12n).tagged()],
      [1, new Writer().int32(2).int32(9).tagged()],
      [2, new Writer().int64(40n).int32(3).tagged()],
      [9, new Writer().int32(5)],
    ]);
  w.int32(1).int16(1).int64(-1n).int64(-1n).int64(-1n)
    .uvarint(0)
    .int32(-1)
    .uvarint(0)
    .tagged();
  w.tagged(); // topic
  w.tagged(
    version >= 16
      ? [[0, new Writer().uvarint(2).int32(1).string("broker-1").int32(9092).uvarint(0).tagged()]]
      : [],
  );
  return w.buffer();
}

for (const version of [12, 17]) {
  Deno.test(`parseFetchResponse() reads Fetch v${version} as the library's parser does, but for the records`, () => {
    const records = encodeBatch({ firstOffset: 3n, records: randomRecords(random(5), 10) });
    const body = fetchResponseBytes(version, records);
    const ours = parseFetchResponse(body, version, noCodec);
    const parse = version === 12
      ? platformatic.fetchV12.parseResponse
      : platformatic.fetchV17.parseResponse;
    let theirs: FetchResponse;
    try {
      parse(0, 1, version, platformatic.Reader.from(body));
      assert.fail("the library's parser accepts a partition error");
    } catch (error) {
      theirs = (error as { response: FetchResponse }).response;
    }
    assert.deepEqual(ours.errors, [["/responses/0/partitions/1", 1]]);
    // The library's consumer filters by abortedTransactions: the engine keeps them as `aborted`.
    const strip = (r: FetchResponse) => ({
      ...r,
      responses: r.responses.map((t) => ({
        ...t,
        partitions: t.partitions.map(({ aborted, ...p }) => ({
          ...p,
          abortedTransactions: aborted ?? p.abortedTransactions,
          records: p.records?.length ?? null,
        })),
      })),
    });
    // The library's consumer gives a response without node endpoints (before v16) an empty list.
    assert.deepEqual(
      strip(ours.response),
      strip({ ...theirs!, nodeEndpoints: theirs!.nodeEndpoints ?? [] }),
    );
    assert.deepEqual(
      ours.response.responses[0]!.partitions[0]!.records![0]!.records.map(comparable),
      (theirs!.responses[0]!.partitions[0]!.records as unknown as Array<
        { records: Parameters<typeof comparable>[0][] }
      >)[0]!.records.map(comparable),
    );
  });
}

Deno.test("parseFetchResponse() refuses versions it does not read and a response cut short", () => {
  const body = fetchResponseBytes(
    17,
    encodeBatch({ firstOffset: 0n, records: [{ offsetDelta: 0, value: null }] }),
  );
  assert.throws(
    () => parseFetchResponse(body, 11, noCodec),
    /Fetch v11 is not read by the platformatic engine \(v12–v17: Kafka 2\.7 or newer\)/,
  );
  for (const cut of [3, 20, 40, body.length - 1]) {
    assert.throws(
      () => parseFetchResponse(body.subarray(0, cut), 17, noCodec),
      RangeError,
      `cut at ${cut}`,
    );
  }
});

Deno.test("a partition error with a new leader (Fetch v16+) reaches the library as its own error", () => {
  for (const version of [16, 17]) {
    const body = fetchResponseBytes(version, Buffer.alloc(0), { errorCode: 6 });
    const { response, errors } = parseFetchResponse(body, version, noCodec);
    assert.deepEqual(errors, [["/responses/0/partitions/0", 6], ["/responses/0/partitions/1", 1]]);
    const partition = response.responses[0]!.partitions[0]!;
    assert.deepEqual(partition.currentLeader, { leaderId: 2, leaderEpoch: 9 });
    assert.deepEqual(partition.divergingEpoch, { epoch: 4, endOffset: 12n });
    assert.deepEqual(partition.snapshotId, { endOffset: 40n, epoch: 3 });
    const parse = fetchParser(platformatic) as (...args: unknown[]) => unknown;
    assert.throws(
      () => parse(0, 1, version, platformatic.Reader.from(body)),
      (error: unknown) => {
        assert.ok(error instanceof platformatic.ResponseError);
        assert.ok(errorIds(error).includes("NOT_LEADER_OR_FOLLOWER"), errorIds(error).join());
        return true;
      },
    );
  }
});

Deno.test("aborted transactions are the engine's to drop: the library's consumer is given none", () => {
  const body = fetchResponseBytes(17, Buffer.alloc(0), { aborted: [[7n, 3n], [8n, 5n]] });
  const partition = parseFetchResponse(body, 17, noCodec).response.responses[0]!.partitions[0]!;
  assert.equal(partition.abortedTransactions, null);
  assert.deepEqual(partition.aborted, [
    { producerId: 7n, firstOffset: 3n },
    { producerId: 8n, firstOffset: 5n },
  ]);
});

Deno.test("a damaged transaction marker fails the response as it is parsed", () => {
  const data: BatchSpec = {
    firstOffset: 0n,
    attributes: 0x10,
    producerId: 7n,
    records: [{ offsetDelta: 0, value: Buffer.from("a") }],
  };
  const key = Buffer.alloc(4);
  const marker: BatchSpec = {
    firstOffset: 1n,
    attributes: 0x30,
    producerId: 7n,
    count: 2, // one record follows
    records: [{ offsetDelta: 0, key, value: Buffer.alloc(6) }],
  };
  const records = Buffer.concat([encodeBatch(data), encodeBatch(marker)]);
  assert.throws(
    () => parseFetchResponse(fetchResponseBytes(17, records, { aborted: [[7n, 0n]] }), 17, noCodec),
    CorruptBatchError,
  );
});

Deno.test("a batch with a negative length fails the response instead of ending it", () => {
  const one = encodeBatch({
    firstOffset: 40n,
    records: [{ offsetDelta: 0, value: Buffer.from("a") }],
  });
  const two = encodeBatch({
    firstOffset: 41n,
    records: [{ offsetDelta: 0, value: Buffer.from("b") }],
  });
  one.writeInt32BE(-1, 8);
  assert.throws(
    () => readBatches(Buffer.concat([one, two]), noCodec),
    /The record batch at offset 40 has a length of -1/,
  );
});

Deno.test("a record claiming more headers than its bytes hold is refused at once", () => {
  const spec: BatchSpec = {
    firstOffset: 0n,
    records: [{ offsetDelta: 0, value: Buffer.from("a") }],
  };
  const body = [
    0,
    ...zigzag(0),
    ...zigzag(0),
    ...zigzag(-1),
    ...zigzag(1),
    97,
    ...zigzag(2 ** 31 - 1),
  ];
  const section = Buffer.from([...zigzag(body.length), ...body]);
  // Refused from the count, not after walking two billion headers.
  assert.throws(
    () => readBatches(encodeBatchWith(spec, section), noCodec)[0]!.size,
    /Record 0 of the record batch at offset 0 claims 2147483647 headers in 0 bytes/,
  );
});

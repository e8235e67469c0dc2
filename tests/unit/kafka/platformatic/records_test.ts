import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import type { FetchedPartition } from "../../../../src/kafka/platformatic/fetch_response.ts";
import { readBatches } from "../../../../src/kafka/platformatic/fetch_response.ts";
import type { RecordBatch } from "../../../../src/kafka/platformatic/record_batch.ts";
import { type BatchSpec, encodeBatch } from "./batch_bytes.ts";
import { partitionRecords } from "../../../../src/kafka/platformatic/records.ts";
import { checkApi, type Platformatic } from "../../../../src/kafka/platformatic/library.ts";

/** A batch as a test describes it, made into the bytes a broker sends by {@linkcode built}. */
function batch(
  firstOffset: number,
  values: Array<string | null>,
  { attributes = 0, producerId = -1n }: { attributes?: number; producerId?: bigint } = {},
): BatchSpec {
  return {
    firstOffset: BigInt(firstOffset),
    attributes,
    producerId,
    lastOffsetDelta: values.length - 1,
    firstTimestamp: 1000n,
    maxTimestamp: 2000n,
    records: values.map((v, i) => ({
      timestampDelta: BigInt(i),
      offsetDelta: i,
      key: null,
      value: v === null ? null : Buffer.from(v),
    })),
  };
}

/** A control batch: an abort (type 0) or commit (type 1) marker. */
function marker(offset: number, producerId: bigint, type: 0 | 1): BatchSpec {
  const b = batch(offset, ["x"], { attributes: 0x20 | 0x10, producerId });
  const key = Buffer.alloc(4);
  key.writeInt16BE(type, 2);
  b.records[0]!.key = key;
  return b;
}

const noCodec = (): never => {
  throw new Error("not compressed");
};

/** The batches as the engine reads them from a response. */
function built(specs: BatchSpec[]): RecordBatch[] {
  return readBatches(Buffer.concat(specs.map(encodeBatch)), noCodec);
}

function partition(specs: BatchSpec[], aborted: Array<[bigint, number]> = []): FetchedPartition {
  return {
    partitionIndex: 2,
    errorCode: 0,
    highWatermark: 99n,
    lastStableOffset: 99n,
    logStartOffset: 0n,
    divergingEpoch: { epoch: -1, endOffset: -1n },
    currentLeader: { leaderId: -1, leaderEpoch: -1 },
    snapshotId: { endOffset: -1n, epoch: -1 },
    abortedTransactions: null,
    aborted: aborted.map(([producerId, firstOffset]) => ({
      producerId,
      firstOffset: BigInt(firstOffset),
    })),
    preferredReadReplica: -1,
    records: built(specs),
  };
}

const offsets = (r: ReturnType<typeof partitionRecords>) =>
  Array.from({ length: r.size }, (_, i) => r.offsetAt(i));

Deno.test("partitionRecords() drops records below the fetch offset and builds messages", () => {
  const r = partitionRecords(partition([batch(10, ["a", "b", "c"])]), 11n);
  assert.deepEqual(offsets(r), ["11", "12"]);
  const m = r.messageAt("t", 0);
  assert.deepEqual([m.topic, m.partition, m.offset, m.text(), m.timestamp], [
    "t",
    2,
    "11",
    "b",
    "1001",
  ]);
  assert.equal(r.highWatermark, "99");
  assert.equal(r.lastOffset, "12");
});

Deno.test("partitionRecords() keeps offsets and timestamps exact near and past 2^53", () => {
  const first = 2n ** 53n + 5n; // past a double's exact range: the BigInt path
  const big = { ...batch(0, ["a", "b", "c"]), firstOffset: first, firstTimestamp: 2n ** 60n };
  const r = partitionRecords(partition([big]), first + 1n);
  assert.deepEqual(offsets(r), [String(first + 1n), String(first + 2n)]);
  assert.equal(r.messageAt("t", 1).timestamp, String(2n ** 60n + 2n));
  // Just under the limit: numbers, still exact.
  const near = BigInt(Number.MAX_SAFE_INTEGER) - 2n ** 32n - 10n;
  const r2 = partitionRecords(partition([{ ...batch(0, ["a", "b"]), firstOffset: near }]), near);
  assert.deepEqual(offsets(r2), [String(near), String(near + 1n)]);
  // A fetch offset past the whole batch keeps nothing of it.
  assert.equal(partitionRecords(partition([batch(10, ["a", "b"])]), 12n).size, 0);
});

Deno.test("partitionRecords() builds messages across batches in any order, and straddling 2^53", () => {
  const r = partitionRecords(
    partition([batch(10, ["a", "b"]), batch(12, ["c"]), batch(13, ["d", "e"])]),
    11n,
  );
  assert.equal(r.size, 4);
  // Asked for out of order: the last first (as a batch's bounds are), then back to the start.
  assert.equal(r.messageAt("t", 3).text(), "e");
  assert.deepEqual([0, 1, 2, 3, 1].map((i) => r.messageAt("t", i).offset), [
    "11",
    "12",
    "13",
    "14",
    "12",
  ]);
  assert.throws(() => r.messageAt("t", 4), RangeError);
  // A batch whose first offset is exact but whose last is not: BigInt for all of it.
  const edge = BigInt(Number.MAX_SAFE_INTEGER) - 1n;
  const r2 = partitionRecords(
    partition([{ ...batch(0, ["a", "b", "c"]), firstOffset: edge }]),
    edge,
  );
  assert.deepEqual(offsets(r2), [String(edge), String(edge + 1n), String(edge + 2n)]);
  // Timestamps: a negative delta, and a sum past 2^53 from an exact base.
  const ts = batch(0, ["a", "b"]);
  ts.firstTimestamp = BigInt(Number.MAX_SAFE_INTEGER) - 1n;
  ts.records[0]!.timestampDelta = -5n;
  ts.records[1]!.timestampDelta = 3n;
  const r3 = partitionRecords(partition([ts]), 0n);
  assert.equal(r3.messageAt("t", 0).timestamp, String(ts.firstTimestamp - 5n));
  assert.equal(r3.messageAt("t", 1).timestamp, String(ts.firstTimestamp + 3n));
  // Log-append time: every record carries the batch's max timestamp.
  const append = batch(0, ["a", "b"], { attributes: 0x08 });
  assert.deepEqual(
    [0, 1].map((i) => partitionRecords(partition([append]), 0n).messageAt("t", i).timestamp),
    ["2000", "2000"],
  );
});

Deno.test("partitionRecords() skips control batches but counts them in lastOffset", () => {
  const r = partitionRecords(partition([batch(0, ["a"]), marker(1, 7n, 1)]), 0n);
  assert.deepEqual(offsets(r), ["0"]);
  assert.equal(r.lastOffset, "1");
});

Deno.test("partitionRecords() skips an aborted transaction whose marker is not in the response", () => {
  const tx = { attributes: 0x10, producerId: 7n };
  const r = partitionRecords(
    partition([batch(0, ["x", "y"], tx), batch(2, ["z"], tx)], [[7n, 0]]),
    0n,
  );
  assert.equal(r.size, 0);
  assert.equal(r.lastOffset, "2", "the position can move past the aborted records");
});

Deno.test("partitionRecords() keeps a committed transaction and records after an abort marker", () => {
  const r = partitionRecords(
    partition([
      batch(0, ["aborted"], { attributes: 0x10, producerId: 7n }),
      marker(1, 7n, 0),
      batch(2, ["kept"], { attributes: 0x10, producerId: 7n }),
      batch(3, ["other"], { attributes: 0x10, producerId: 8n }),
    ], [[7n, 0]]),
    0n,
  );
  assert.deepEqual(offsets(r), ["2", "3"]);
});

Deno.test("messages carry their headers: a repeated one as a list in order, a null one as undefined, names read once per place", () => {
  const h = (name: string | null, value: string | null): [Uint8Array | null, Uint8Array | null] => [
    name === null ? null : Buffer.from(name),
    value === null ? null : Buffer.from(value),
  ];
  const spec = batch(0, ["a", "b", "c"]);
  spec.records[0]!.headers = [h("a", "1"), h("b", "2"), h("a", "3"), h("n", null), h(null, "x")];
  spec.records[1]!.headers = [h("a", "4"), h("bb", "5"), h("n", "6"), h("n", null)];
  spec.records[2]!.headers = [h("é", null), h("é", "7")];
  const r = partitionRecords(partition([spec]), 0n);
  const text = (m: ReturnType<typeof r.messageAt>) =>
    Object.fromEntries(
      Object.entries(m.headers).map(([k, v]) => [
        k,
        v === undefined
          ? undefined
          : Array.isArray(v)
          ? v.map((b) => new TextDecoder().decode(b))
          : new TextDecoder().decode(v),
      ]),
    );
  assert.deepEqual(text(r.messageAt("t", 0)), { a: ["1", "3"], b: "2", n: undefined });
  assert.deepEqual(Object.keys(r.messageAt("t", 0).headers), ["a", "b", "n"]);
  assert.deepEqual(text(r.messageAt("t", 1)), { a: "4", bb: "5", n: "6" });
  assert.deepEqual(text(r.messageAt("t", 2)), { é: "7" });
  // Names Object.prototype has are headers like any other.
  const proto = batch(0, ["a"]);
  proto.records[0]!.headers = [
    h("constructor", "2"),
    h("toString", null),
    h("__proto__", "1"),
    h("hasOwnProperty", "3"),
  ];
  const odd = partitionRecords(partition([proto]), 0n).messageAt("t", 0).headers;
  assert.equal(Object.getPrototypeOf(odd), Object.prototype);
  assert.deepEqual(Object.keys(odd), ["constructor", "toString", "__proto__", "hasOwnProperty"]);
  assert.deepEqual(text({ headers: odd } as ReturnType<typeof r.messageAt>), {
    constructor: "2",
    toString: undefined,
    ["__proto__"]: "1",
    hasOwnProperty: "3",
  });
  // The same message asked for again: the names read before in each place still match.
  assert.deepEqual(text(r.messageAt("t", 0)), { a: ["1", "3"], b: "2", n: undefined });
});

Deno.test("checkApi() names what an installed @platformatic/kafka lacks", () => {
  class Consumer {
    fetch() {}
  }
  const fake = { Consumer, version: "9.0.0" } as unknown as Platformatic;
  assert.throws(
    () => checkApi(fake),
    /platformatic engine: the installed @platformatic\/kafka \(version 9\.0\.0\) lacks export kGetApi, .*export ConnectionPool, .*Consumer\.listOffsets\(\).*; the engine needs @platformatic\/kafka 2\.12\.1/,
  );
});

Deno.test("partitionRecords() drops every record below the fetch offset even when a batch's deltas are out of order", () => {
  const b = batch(10, ["a", "b", "c"]);
  b.records = [b.records[1]!, b.records[0]!, b.records[2]!]; // deltas 1, 0, 2
  b.lastOffsetDelta = 2;
  assert.deepEqual(offsets(partitionRecords(partition([b]), 11n)), ["11", "12"]);
});

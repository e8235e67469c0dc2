import assert from "node:assert/strict";
import {
  decodeCommitMetadata,
  encodeCommitMetadata,
  FinishedOffsets,
  METADATA_LIMIT,
} from "../../../src/offsets/commit_metadata.ts";

/** The offsets a decoded metadata lists, as strings. */
function listed(metadata: string | null, committed: string): string[] {
  const decoded = decodeCommitMetadata(metadata, committed);
  if (decoded.kind !== "finished") return [];
  const out: string[] = [];
  for (const [from, to] of decoded.finished.ranges) {
    for (let o = from; o < to; o++) out.push(String(o));
  }
  return out;
}

/** A deterministic pseudo-random generator (xorshift). */
function random(seed: number): () => number {
  let x = seed;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
}

Deno.test("encodeCommitMetadata() round-trips through decodeCommitMetadata()", () => {
  const cases: Array<[string, string[]]> = [
    ["10", ["11", "12", "14"]],
    ["0", ["1"]],
    ["0", ["5", "6", "7", "100000"]],
    ["9223372036854775000", ["9223372036854775001", "9223372036854775806"]],
  ];
  for (const [committed, finished] of cases) {
    const { metadata, kept, dropped } = encodeCommitMetadata(committed, finished);
    assert.equal(kept, finished.length);
    assert.equal(dropped, 0);
    assert.ok(metadata!.startsWith(`cd1:${committed}:`), metadata!);
    assert.deepEqual(listed(metadata, committed), finished);
  }
});

Deno.test("encodeCommitMetadata() round-trips random finished sets, each within the limit", () => {
  const next = random(7);
  for (let round = 0; round < 200; round++) {
    const committed = String(Math.floor(next() * 1e9));
    const finished: string[] = [];
    let offset = BigInt(committed);
    const count = Math.floor(next() * 3000);
    const density = next();
    for (let i = 0; i < count; i++) {
      offset += 1n + (next() < density ? 0n : BigInt(Math.floor(next() * 40)));
      finished.push(String(offset));
    }
    const { metadata, kept, dropped } = encodeCommitMetadata(committed, finished);
    assert.equal(kept + dropped, finished.length);
    if (metadata !== null) assert.ok(metadata.length <= METADATA_LIMIT, `${metadata.length}`);
    // What is listed is exactly the kept prefix of the finished offsets: never an offset that
    // did not finish.
    assert.deepEqual(listed(metadata, committed), finished.slice(0, kept));
  }
});

Deno.test("encodeCommitMetadata() writes the shorter of runs and bitset", () => {
  // One long run: a few bytes of run lengths beat a 625-byte bitset.
  const long = Array.from({ length: 5000 }, (_, i) => String(101 + i));
  assert.equal(encodeCommitMetadata("100", long).metadata, "cd1:100:rAYgn");
  // Every other offset: runs cost two bytes per offset, the bitset a quarter byte.
  const sparse = Array.from({ length: 5000 }, (_, i) => String(101 + 2 * i));
  const { metadata } = encodeCommitMetadata("100", sparse);
  assert.ok(metadata!.startsWith("cd1:100:b"), metadata!);
  assert.ok(metadata!.length < 1700, `${metadata!.length}`);
});

Deno.test("encodeCommitMetadata() keeps the longest prefix that fits when the set is too large", () => {
  // Gaps of 1000 make the bitset useless; runs take four bytes per finished offset.
  const finished = Array.from({ length: 2000 }, (_, i) => String(1000 * (i + 1)));
  const { metadata, kept, dropped } = encodeCommitMetadata("0", finished, { limit: 400 });
  assert.ok(metadata !== null && metadata.length <= 400, metadata ?? "null");
  assert.ok(kept > 0 && kept < 2000, `kept ${kept}`);
  assert.equal(kept + dropped, 2000);
  assert.deepEqual(listed(metadata, "0"), finished.slice(0, kept));
  // A limit below the header keeps nothing.
  assert.deepEqual(encodeCommitMetadata("0", finished, { limit: 5 }), {
    metadata: null,
    kept: 0,
    dropped: 2000,
  });
});

Deno.test("encodeCommitMetadata() writes null when nothing beyond the commit finished", () => {
  assert.deepEqual(encodeCommitMetadata("42", []), { metadata: null, kept: 0, dropped: 0 });
});

Deno.test("encodeCommitMetadata() refuses offsets at or below the commit, or out of order", () => {
  assert.throws(() => encodeCommitMetadata("10", ["10"]), RangeError);
  assert.throws(() => encodeCommitMetadata("10", ["12", "11"]), RangeError);
  assert.throws(() => encodeCommitMetadata("10", ["12", "12"]), RangeError);
});

Deno.test("decodeCommitMetadata() ignores metadata written for another committed offset (reset-offsets)", () => {
  const { metadata } = encodeCommitMetadata("10", ["11", "12"]);
  assert.deepEqual(decodeCommitMetadata(metadata, "0"), { kind: "stale", writtenFor: "10" });
  assert.deepEqual(decodeCommitMetadata(metadata, "11"), { kind: "stale", writtenFor: "10" });
});

Deno.test("decodeCommitMetadata() treats no metadata and other clients' metadata as none", () => {
  for (const metadata of [null, undefined, "", "some other client", "cd2:10:rAQE"]) {
    assert.deepEqual(decodeCommitMetadata(metadata, "10"), { kind: "none" }, String(metadata));
  }
});

Deno.test("decodeCommitMetadata() reports damaged metadata as malformed, listing nothing", () => {
  const cases = [
    "cd1:10",
    "cd1:10:rAQE:x",
    "cd1:-1:rAQE",
    "cd1:010:rAQE",
    "cd1:10:x",
    "cd1:10:r!!",
    "cd1:10:rgA", // a varint cut short
    "cd1:10:rAQ", // one run, not a pair
    "cd1:10:rAAE", // an empty unfinished run
  ];
  for (const metadata of cases) {
    const decoded = decodeCommitMetadata(metadata, "10");
    assert.equal(decoded.kind, "malformed", metadata);
  }
});

Deno.test("FinishedOffsets.has() finds offsets in ranges; size and end sum them up", () => {
  const set = new FinishedOffsets([[11n, 13n], [20n, 21n], [30n, 35n]]);
  assert.deepEqual(
    ["10", "11", "12", "13", "19", "20", "21", "29", "34", "35"].map((o) => set.has(o)),
    [false, true, true, false, false, true, false, false, true, false],
  );
  assert.equal(set.size, 8);
  assert.equal(set.end, 35n);
  assert.equal(new FinishedOffsets([]).end, null);
});

/**
 * The finished offsets beyond a committed offset, carried in the commit's
 * metadata string, so that a consumer starting from that commit (after a
 * crash, a rebalance, on another daemon) does not handle them again.
 *
 * With `ordering: key` or `none`, messages finish out of order: the
 * committed offset C is the oldest unfinished message, and some messages
 * after it may have finished already. The metadata lists those:
 *
 *     cd1:<C>:r<base64url>   run lengths from C, as unsigned LEB128 varints,
 *                            alternating unfinished and finished (C itself is
 *                            unfinished, so the first run is unfinished)
 *     cd1:<C>:b<base64url>   a bitset: bit i (least significant first in each
 *                            byte) says whether offset C + 1 + i finished
 *
 * The encoder writes whichever is shorter. C is written inside, so metadata
 * left behind by a commit some other tool made (`reset-offsets`, Kafka's
 * own CLI) is never trusted: it is used only when its C is the committed
 * offset. Offsets not listed are handled again, so every rule here errs
 * that way: an encoding too long for the limit keeps its longest prefix
 * that fits (fewer offsets skipped, none wrongly).
 *
 * @module
 */
import { compareOffsets, parseOffset } from "./offset.ts";

/**
 * The longest metadata written, in characters: below the broker's default
 * `offset.metadata.max.bytes` (4096), with room to spare.
 */
export const METADATA_LIMIT = 4000;

const VERSION = "cd1";

/** The metadata to commit with an offset, and how much of the finished set it carries. */
export interface EncodedMetadata {
  /** The metadata string; null when no finished offset is listed. */
  metadata: string | null;
  /** Finished offsets the metadata lists. */
  kept: number;
  /** Finished offsets left out because the whole set did not fit in the limit. */
  dropped: number;
}

/**
 * Finished offsets beyond a committed offset, as disjoint increasing ranges.
 *
 * @example
 * ```ts
 * const set = new FinishedOffsets([[11n, 13n], [20n, 21n]]); // 11, 12 and 20
 * set.has("12"); // true
 * set.has("13"); // false
 * set.size; // 3
 * ```
 */
export class FinishedOffsets {
  /** `[from, to)` ranges, increasing and disjoint. */
  readonly ranges: ReadonlyArray<readonly [bigint, bigint]>;
  /** How many offsets the ranges hold. */
  readonly size: number;

  constructor(ranges: ReadonlyArray<readonly [bigint, bigint]>) {
    this.ranges = ranges;
    let size = 0n;
    for (const [from, to] of ranges) size += to - from;
    this.size = Number(size);
  }

  /** The offset after the last one listed (nothing at or beyond it is), or null when empty. */
  get end(): bigint | null {
    return this.ranges.at(-1)?.[1] ?? null;
  }

  /** Whether `offset` is listed. */
  has(offset: string | bigint): boolean {
    const value = typeof offset === "bigint" ? offset : BigInt(offset);
    let low = 0;
    let high = this.ranges.length - 1;
    while (low <= high) {
      const middle = (low + high) >>> 1;
      const [from, to] = this.ranges[middle]!;
      if (value < from) high = middle - 1;
      else if (value >= to) low = middle + 1;
      else return true;
    }
    return false;
  }
}

/** What {@linkcode decodeCommitMetadata} made of a commit's metadata. */
export type DecodedMetadata =
  | { kind: "finished"; finished: FinishedOffsets }
  /** No metadata, or metadata some other client wrote (not this encoding). */
  | { kind: "none" }
  /** This encoding, written for another committed offset (the offset was moved since). */
  | { kind: "stale"; writtenFor: string }
  /** This encoding, but damaged. */
  | { kind: "malformed"; reason: string };

/**
 * Encodes `finished` — offsets beyond `committed` whose messages finished,
 * in increasing order — as commit metadata, within `limit` characters.
 *
 * @throws {RangeError} If an offset is not above `committed`, or the list is not increasing.
 *
 * @example
 * ```ts
 * encodeCommitMetadata("10", ["11", "12", "14"]);
 * // { metadata: "cd1:10:bCw", kept: 3, dropped: 0 } (the bitset 1,1,0,1 is the shorter)
 * encodeCommitMetadata("10", []); // { metadata: null, kept: 0, dropped: 0 }
 * ```
 */
export function encodeCommitMetadata(
  committed: string,
  finished: readonly string[],
  { limit = METADATA_LIMIT }: { limit?: number } = {},
): EncodedMetadata {
  const action = "encode commit metadata";
  const base = parseOffset(committed, { action, name: "committed" });
  if (finished.length === 0) return { metadata: null, kept: 0, dropped: 0 };
  const offsets = finished.map((offset) => parseOffset(offset, { action, name: "finished" }));
  let previous = base;
  for (const offset of offsets) {
    if (compareOffsets(offset, previous) <= 0) {
      throw new RangeError(
        `Cannot ${action} as finished offsets must be increasing and above the committed offset ${base}: found ${offset} after ${previous}`,
      );
    }
    previous = offset;
  }
  const c = BigInt(base);
  const values = offsets.map((o) => BigInt(o));
  const candidates = [
    runsCandidate(base, c, values, limit),
    bitsetCandidate(base, c, values, limit),
  ].filter((x) => x.kept > 0);
  candidates.sort((a, b) => b.kept - a.kept || a.metadata.length - b.metadata.length);
  const best = candidates[0];
  if (best === undefined) return { metadata: null, kept: 0, dropped: values.length };
  return { metadata: best.metadata, kept: best.kept, dropped: values.length - best.kept };
}

/**
 * Reads commit metadata written by {@linkcode encodeCommitMetadata} for the
 * partition's `committed` offset.
 *
 * @example
 * ```ts
 * decodeCommitMetadata("cd1:10:bCw", "10"); // { kind: "finished", finished: 11, 12 and 14 }
 * decodeCommitMetadata("cd1:10:bCw", "0"); // { kind: "stale", writtenFor: "10" }
 * decodeCommitMetadata("", "10"); // { kind: "none" }
 * ```
 */
export function decodeCommitMetadata(
  metadata: string | null | undefined,
  committed: string,
): DecodedMetadata {
  if (metadata === null || metadata === undefined || !metadata.startsWith(`${VERSION}:`)) {
    return { kind: "none" };
  }
  const [, writtenFor, body, ...rest] = metadata.split(":");
  if (writtenFor === undefined || body === undefined || rest.length > 0) {
    return { kind: "malformed", reason: "expected cd1:<offset>:<runs or bitset>" };
  }
  if (!/^(0|[1-9][0-9]{0,18})$/.test(writtenFor)) {
    return { kind: "malformed", reason: `the offset ${JSON.stringify(writtenFor)} is not one` };
  }
  if (writtenFor !== committed) return { kind: "stale", writtenFor };
  const bytes = fromBase64Url(body.slice(1));
  if (bytes === null) return { kind: "malformed", reason: "the payload is not base64url" };
  const c = BigInt(writtenFor);
  const ranges = body[0] === "r"
    ? rangesOfRuns(c, bytes)
    : body[0] === "b"
    ? rangesOfBits(c, bytes)
    : `unknown encoding ${JSON.stringify(body[0] ?? "")}`;
  if (typeof ranges === "string") return { kind: "malformed", reason: ranges };
  return { kind: "finished", finished: new FinishedOffsets(ranges) };
}

/** One encoding of the finished set, possibly cut to fit. */
interface Candidate {
  metadata: string;
  kept: number;
}

/** How many payload bytes fit after `header` within `limit` characters of base64url. */
function payloadBytes(header: string, limit: number): number {
  return Math.max(0, Math.floor((limit - header.length) * 3 / 4));
}

/** Run lengths: unfinished, finished, unfinished, … from C, as many whole pairs as fit. */
function runsCandidate(base: string, c: bigint, values: bigint[], limit: number): Candidate {
  const header = `${VERSION}:${base}:r`;
  const room = payloadBytes(header, limit);
  const bytes: number[] = [];
  let kept = 0;
  let next = c; // the first offset not covered by a run yet (unfinished)
  let i = 0;
  while (i < values.length) {
    const from = values[i]!;
    let to = from + 1n;
    let j = i + 1;
    while (j < values.length && values[j] === to) {
      to++;
      j++;
    }
    const pair = [...varint(from - next), ...varint(to - from)];
    if (bytes.length + pair.length > room) break;
    bytes.push(...pair);
    kept += j - i;
    next = to;
    i = j;
  }
  return { metadata: header + toBase64Url(bytes), kept };
}

/** A bitset of C + 1 onwards, as many whole bytes as fit, trailing empty bytes dropped. */
function bitsetCandidate(base: string, c: bigint, values: bigint[], limit: number): Candidate {
  const header = `${VERSION}:${base}:b`;
  const room = payloadBytes(header, limit);
  const bytes: number[] = [];
  let kept = 0;
  for (const value of values) {
    const bit = value - c - 1n;
    if (bit >= BigInt(room) * 8n) break;
    const index = Number(bit >> 3n);
    while (bytes.length <= index) bytes.push(0);
    bytes[index]! |= 1 << Number(bit & 7n);
    kept++;
  }
  return { metadata: header + toBase64Url(bytes), kept };
}

/** Unsigned LEB128. */
function varint(value: bigint): number[] {
  const out: number[] = [];
  let rest = value;
  do {
    const low = Number(rest & 0x7fn);
    rest >>= 7n;
    out.push(rest > 0n ? low | 0x80 : low);
  } while (rest > 0n);
  return out;
}

/** Finished ranges from run lengths, or what is wrong with them. */
function rangesOfRuns(c: bigint, bytes: Uint8Array): Array<[bigint, bigint]> | string {
  const runs: bigint[] = [];
  let value = 0n;
  let shift = 0n;
  for (const byte of bytes) {
    value |= BigInt(byte & 0x7f) << shift;
    if (byte & 0x80) {
      shift += 7n;
      if (shift > 63n) return "a run length is longer than 64 bits";
      continue;
    }
    runs.push(value);
    value = 0n;
    shift = 0n;
  }
  if (shift !== 0n) return "the last run length is cut short";
  if (runs.length % 2 !== 0) return "expected pairs of unfinished and finished runs";
  const ranges: Array<[bigint, bigint]> = [];
  let next = c;
  for (let i = 0; i < runs.length; i += 2) {
    const unfinished = runs[i]!;
    const finished = runs[i + 1]!;
    if (unfinished === 0n || finished === 0n) return "a run is empty";
    const from = next + unfinished;
    ranges.push([from, from + finished]);
    next = from + finished;
  }
  return ranges;
}

/** Finished ranges from a bitset. */
function rangesOfBits(c: bigint, bytes: Uint8Array): Array<[bigint, bigint]> {
  const ranges: Array<[bigint, bigint]> = [];
  for (let i = 0; i < bytes.length * 8; i++) {
    if ((bytes[i >> 3]! & (1 << (i & 7))) === 0) continue;
    const offset = c + 1n + BigInt(i);
    const last = ranges.at(-1);
    if (last !== undefined && last[1] === offset) last[1] = offset + 1n;
    else ranges.push([offset, offset + 1n]);
  }
  return ranges;
}

function toBase64Url(bytes: readonly number[]): string {
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

function fromBase64Url(text: string): Uint8Array | null {
  if (!/^[A-Za-z0-9_-]*$/.test(text) || text.length % 4 === 1) return null;
  const binary = atob(text.replaceAll("-", "+").replaceAll("_", "/"));
  return Uint8Array.from(binary, (char) => char.charCodeAt(0));
}

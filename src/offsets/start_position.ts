/**
 * Where a consumer starts reading a partition: the offset table of
 * PRODUCT.md §3, after PyKafka's `auto_offset_reset` and
 * `reset_offset_on_start`.
 *
 * @module
 */

import { compareOffsets, parseOffset } from "./offset.ts";

/** What {@linkcode startPosition} needs to know about one partition. */
export interface StartPositionInput {
  /** Where to start when the committed offset is not used: the log start or the high watermark. */
  autoOffsetReset: "earliest" | "latest";
  /** Whether partitions held when this consumer's start settled are reset. */
  resetOffsetOnStart: boolean;
  /** Whether the partition was held by this daemon when this consumer's start settled. */
  heldAtStart: boolean;
  /**
   * The committed offset for the group, topic and partition, in Kafka's
   * convention (the next offset to read); `null` if there is none. `"-1"`,
   * which Kafka and kafkajs report for "no committed offset", also means none;
   * any other negative value is out of range.
   */
  committed: string | null;
  /** The earliest offset still in the log. */
  logStartOffset: string;
  /** The end of the log: the offset the next produced message will get. */
  highWatermark: string;
}

/**
 * Why a partition starts where it does:
 * - `committed`: resuming from the committed offset;
 * - `reset-on-start`: `resetOffsetOnStart` is true and the partition was held when the start settled;
 * - `no-committed-offset`: the group has no committed offset for the partition;
 * - `out-of-range`: the committed offset is below the log start (deleted by
 *   retention) or beyond the high watermark.
 */
export type StartReason = "committed" | "reset-on-start" | "no-committed-offset" | "out-of-range";

/** The result of {@linkcode startPosition}. */
export interface StartPosition {
  /** The offset of the first message to read, in canonical form. */
  offset: string;
  /** Why the partition starts there. */
  reason: StartReason;
  /**
   * Whether the position must be committed at once, so that peers and
   * restarts see it: true for every reset, false when resuming from the
   * committed offset.
   */
  commit: boolean;
}

const ACTION = "compute start position";

/**
 * Decides where a consumer starts reading a partition.
 *
 * | resetOffsetOnStart | committed offset | held at start | start position |
 * |---|---|---|---|
 * | true  | any           | yes | autoOffsetReset (`reset-on-start`) |
 * | true  | exists, valid | no  | committed |
 * | false | exists, valid | any | committed |
 * | any   | none          | any | autoOffsetReset (`no-committed-offset`) |
 * | any   | out of range  | any | autoOffsetReset (`out-of-range`) |
 *
 * The rows are read top to bottom: a partition held at start with
 * `resetOffsetOnStart` is reported as `reset-on-start` even when it has no
 * committed offset or an out-of-range one. A committed offset is valid when
 * `logStartOffset <= committed <= highWatermark`; equal to the high watermark
 * means nothing new to read yet. `earliest` is the log start offset, `latest`
 * the high watermark. Offsets are compared as 64-bit integers, never as
 * JavaScript numbers.
 *
 * @param input The consumer's settings and the partition's offsets.
 * @returns The offset to start at, why, and whether it must be committed.
 * @throws {TypeError} If a field has the wrong type or an offset is not a string of digits.
 * @throws {RangeError} If an offset is negative, above 2^63-1, or the log start
 * offset exceeds the high watermark.
 *
 * @example Usage
 * ```ts
 * import { startPosition } from "./start_position.ts";
 * import assert from "node:assert/strict";
 *
 * // The group processed offsets 0..4 and committed 5: the next start reads 5.
 * assert.deepEqual(
 *   startPosition({
 *     autoOffsetReset: "earliest",
 *     resetOffsetOnStart: false,
 *     heldAtStart: true,
 *     committed: "5",
 *     logStartOffset: "0",
 *     highWatermark: "10",
 *   }),
 *   { offset: "5", reason: "committed", commit: false },
 * );
 *
 * // A new group with `latest` starts at the end of the log and commits it.
 * assert.deepEqual(
 *   startPosition({
 *     autoOffsetReset: "latest",
 *     resetOffsetOnStart: false,
 *     heldAtStart: true,
 *     committed: null,
 *     logStartOffset: "0",
 *     highWatermark: "10",
 *   }),
 *   { offset: "10", reason: "no-committed-offset", commit: true },
 * );
 * ```
 */
export function startPosition(input: StartPositionInput): StartPosition {
  if (typeof input !== "object" || input === null) {
    throw new TypeError(
      `Cannot ${ACTION} as 'input' must be an object: current value is ${describe(input)}`,
    );
  }
  const { autoOffsetReset, resetOffsetOnStart, heldAtStart } = input;
  if (autoOffsetReset !== "earliest" && autoOffsetReset !== "latest") {
    throw new TypeError(
      `Cannot ${ACTION} as 'autoOffsetReset' must be "earliest" or "latest": current value is ${
        describe(autoOffsetReset)
      }`,
    );
  }
  checkBoolean(resetOffsetOnStart, "resetOffsetOnStart");
  checkBoolean(heldAtStart, "heldAtStart");
  // Any other negative value is a placeholder a client committed instead of
  // an offset (kafkajs's -2 for "earliest"): it points at nothing, so it is
  // out of range.
  const placeholder = input.committed !== null && input.committed !== "-1" &&
    /^-[0-9]+$/.test(input.committed);
  const committed = input.committed === null || input.committed === "-1" || placeholder
    ? null
    : parseOffset(input.committed, { action: ACTION, name: "committed" });
  const logStartOffset = parseOffset(input.logStartOffset, {
    action: ACTION,
    name: "logStartOffset",
  });
  const highWatermark = parseOffset(input.highWatermark, { action: ACTION, name: "highWatermark" });
  if (compareOffsets(logStartOffset, highWatermark) > 0) {
    throw new RangeError(
      `Cannot ${ACTION} as 'logStartOffset' must not exceed 'highWatermark': current values are ${
        describe(logStartOffset)
      } and ${describe(highWatermark)}`,
    );
  }

  const reset = autoOffsetReset === "earliest" ? logStartOffset : highWatermark;
  if (resetOffsetOnStart && heldAtStart) {
    return { offset: reset, reason: "reset-on-start", commit: true };
  }
  if (placeholder) return { offset: reset, reason: "out-of-range", commit: true };
  if (committed === null) {
    return { offset: reset, reason: "no-committed-offset", commit: true };
  }
  if (
    compareOffsets(committed, logStartOffset) < 0 || compareOffsets(committed, highWatermark) > 0
  ) {
    return { offset: reset, reason: "out-of-range", commit: true };
  }
  return { offset: committed, reason: "committed", commit: false };
}

function checkBoolean(value: unknown, name: string): void {
  if (typeof value !== "boolean") {
    throw new TypeError(
      `Cannot ${ACTION} as '${name}' must be a boolean: current value is ${describe(value)}`,
    );
  }
}

function describe(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value);
  if (typeof value === "bigint") return `${value}n`;
  if (typeof value === "object" && value !== null) return Object.prototype.toString.call(value);
  return String(value);
}

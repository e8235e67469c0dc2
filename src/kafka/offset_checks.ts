/**
 * Offset checks shared by the sessions: arguments of the sessions that run
 * their own fetch loop (kafkajs's simple mode, the platformatic engine), and
 * committed offsets as Kafka reports them.
 *
 * @module
 */
import type { PartitionOffset } from "./session.ts";

/** Whether `value` is an offset in canonical form: a non-negative decimal string. */
export function isOffset(value: unknown): value is string {
  return typeof value === "string" && /^(0|[1-9][0-9]*)$/.test(value);
}

/**
 * A group's committed offset as OffsetFetch answers it, for
 * `PartitionState.committed`: null for -1, Kafka's "the group has no
 * committed offset"; any other value as a decimal string. A negative one
 * (kafkajs commits -2 for "earliest" after an out-of-range reset) is kept:
 * it points at nothing, and `startPosition()` starts it as out of range.
 *
 * @example
 * ```ts
 * committedOffset("-1"); // null
 * committedOffset(-2n); // "-2"
 * committedOffset("42"); // "42"
 * ```
 */
export function committedOffset(raw: string | bigint | undefined): string | null {
  if (raw === undefined) return null;
  const offset = String(raw);
  return offset === "-1" ? null : offset;
}

/**
 * A committed offset's metadata as OffsetFetch answers it, for
 * `PartitionState.metadata`: null for none (Kafka stores a commit without
 * metadata as "").
 *
 * @example
 * ```ts
 * committedMetadata(""); // null
 * committedMetadata("cd1:5:rAQE"); // "cd1:5:rAQE"
 * ```
 */
export function committedMetadata(raw: string | null | undefined): string | null {
  return raw === undefined || raw === null || raw === "" ? null : raw;
}

/**
 * Checks that every offset names one of `partitions` and is a canonical
 * offset; `name` is the argument's name, for the error.
 *
 * @throws {RangeError} On the first offset that is not.
 *
 * @example
 * ```ts
 * checkOffsets([{ partition: 0, offset: "5" }], new Set([0, 1]), "positions"); // ok
 * ```
 */
export function checkOffsets(
  offsets: readonly PartitionOffset[],
  partitions: { has(partition: number): boolean; keys(): Iterable<number> },
  name: string,
): void {
  for (const { partition, offset } of offsets) {
    if (!partitions.has(partition)) {
      throw new RangeError(
        `Cannot use '${name}' as partition ${partition} is not one of this session's partitions (${
          [...partitions.keys()].join(", ")
        })`,
      );
    }
    if (!isOffset(offset)) {
      throw new RangeError(
        `Cannot use '${name}' as the offset of partition ${partition} must be a non-negative decimal string: current value is ${
          JSON.stringify(offset)
        }`,
      );
    }
  }
}

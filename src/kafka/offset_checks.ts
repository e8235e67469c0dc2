/**
 * Argument checks shared by the sessions that run their own fetch loop
 * (kafkajs's simple mode, the platformatic engine).
 *
 * @module
 */
import type { PartitionOffset } from "./session.ts";

/** Whether `value` is an offset in canonical form: a non-negative decimal string. */
export function isOffset(value: unknown): value is string {
  return typeof value === "string" && /^(0|[1-9][0-9]*)$/.test(value);
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

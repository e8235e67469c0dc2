/**
 * The error of a record for a partition its topic does not have, as both
 * producers (at-least-once and exactly-once) report it. Pure.
 *
 * @module
 */

/**
 * The error of a record for partition `partition` of `topic`, which the topic does not have.
 *
 * @example
 * ```ts
 * missingPartition("out", 9).message;
 * // 'Cannot produce to partition 9 of topic "out": the topic has no such partition (…)'
 * ```
 */
export function missingPartition(topic: string, partition: number): RangeError {
  return new RangeError(
    `Cannot produce to partition ${partition} of topic ${
      JSON.stringify(topic)
    }: the topic has no such partition (leave partition out to let the key choose one)`,
  );
}

/**
 * A record a handler produces with `ctx.produce()`. Shared by the worker
 * (which checks it against the consumer's `outputs`) and the Kafka engines
 * (which send it), so it lives below both layers.
 *
 * @module
 */

/** Bytes or text (sent as UTF-8). */
export type RecordBytes = string | Uint8Array;

/**
 * A record for `ctx.produce()`: its topic must be one of the consumer's
 * `outputs`. Without `partition`, the key picks the partition (Kafka's
 * default partitioner: murmur2 of the key; records without a key are
 * spread). A message's `headers` may be passed on as they are.
 *
 * @example
 * ```ts
 * await ctx.produce({
 *   topic: "orders.enriched",
 *   key: message.key,
 *   value: JSON.stringify({ ...message.json<object>(), enriched: true }),
 *   headers: message.headers,
 * });
 * ```
 */
export interface ProduceRecord {
  /** One of the consumer's `outputs`. */
  topic: string;
  key?: RecordBytes | null;
  value: RecordBytes | null;
  /** A header with a list of values is sent once per value, in order. */
  headers?: Record<string, RecordBytes | RecordBytes[] | undefined>;
  /** The partition to write to; default: chosen by the key. */
  partition?: number;
}

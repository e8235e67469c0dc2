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

const encoder = new TextEncoder();

function byteLength(bytes: RecordBytes | null | undefined): number {
  if (bytes === null || bytes === undefined) return 0;
  // A string's UTF-8 length without encoding it when it is ASCII.
  if (typeof bytes !== "string") return bytes.byteLength;
  // deno-lint-ignore no-control-regex
  return /^[\x00-\x7f]*$/.test(bytes) ? bytes.length : encoder.encode(bytes).byteLength;
}

/**
 * The bytes of `record` that metrics count and produce requests are cut by:
 * its key, its value, and each header's name and values (text as UTF-8),
 * without Kafka's framing.
 *
 * @example
 * ```ts
 * recordBytes({ topic: "t", key: "k", value: "vv", headers: { h: ["a", "b"] } }); // 7
 * ```
 */
export function recordBytes(record: ProduceRecord): number {
  let bytes = byteLength(record.key) + byteLength(record.value);
  if (record.headers === undefined) return bytes;
  for (const [name, value] of Object.entries(record.headers)) {
    for (const one of Array.isArray(value) ? value : value === undefined ? [] : [value]) {
      bytes += byteLength(name) + byteLength(one);
    }
  }
  return bytes;
}

const isBytes = (v: unknown): boolean => typeof v === "string" || v instanceof Uint8Array;

/**
 * What is wrong with the key, value or headers of `record` (each must be
 * text or bytes; the value may be null, the key null or left out; a header
 * may list several values), or null. The engines could not send it.
 *
 * @example
 * ```ts
 * shapeProblem({ topic: "t", value: "v" }); // null
 * shapeProblem({ topic: "t", value: 7 as unknown as string }); // "value must be a string, …"
 * ```
 */
export function shapeProblem({ key, value, headers }: ProduceRecord): string | null {
  if (value !== null && !isBytes(value)) {
    return `value must be a string, a Uint8Array or null: current value is ${String(value)}`;
  }
  if (key !== undefined && key !== null && !isBytes(key)) {
    return `key must be a string, a Uint8Array, null or left out: current value is ${String(key)}`;
  }
  if (headers === undefined) return null;
  if (typeof headers !== "object" || headers === null || Array.isArray(headers)) {
    return `headers must be an object of header names: current value is ${String(headers)}`;
  }
  for (const [name, v] of Object.entries(headers)) {
    if (v === undefined || isBytes(v) || (Array.isArray(v) && v.every(isBytes))) continue;
    return `header ${JSON.stringify(name)} must be a string, a Uint8Array or a list of them: ` +
      `current value is ${String(v)}`;
  }
  return null;
}

/**
 * How many bytes of records one produce request carries, shared by both
 * engines' producers: the broker refuses a request whose batch for one
 * partition passes its `message.max.bytes` (1 MiB by default), so requests
 * are cut well below it. Pure.
 *
 * @module
 */
/**
 * About the most bytes (keys, values and headers) one request carries for
 * one partition: well under the broker's default `message.max.bytes`
 * (1 MiB), however many records that is (a single larger record goes alone).
 */
export const MAX_BYTES_PER_REQUEST = 512 * 1024;

/**
 * The most bytes (key, value and headers) one record may carry where the
 * broker cannot be left to refuse it (a transaction's records): the broker's
 * default `message.max.bytes` (1 MiB) less room for the batch around it.
 */
export const MAX_RECORD_BYTES = 1024 * 1024 - 1024;

/**
 * Cuts `items` (records in the order they are sent, each with its topic,
 * partition and size) into consecutive requests that each carry at most
 * `maxBytes` for any one partition (a single larger item goes alone for its
 * partition). Sent one after the other, the requests keep each partition's order.
 *
 * @example
 * ```ts
 * const item = (bytes: number) => ({ topic: "t", partition: 0, bytes });
 * partitionRequests([item(300), item(300), item(100)], 512).map((r) => r.length); // [1, 2]
 * ```
 */
export function partitionRequests<T extends { topic: string; partition: number; bytes: number }>(
  items: readonly T[],
  maxBytes: number = MAX_BYTES_PER_REQUEST,
): T[][] {
  let total = 0;
  for (const item of items) total += item.bytes;
  // No partition can pass the bound: one request, without counting per partition.
  if (total <= maxBytes) return items.length === 0 ? [] : [items.slice()];
  const requests: T[][] = [];
  let request: T[] = [];
  /** Bytes in `request` per topic, indexed by partition. */
  let perPartition = new Map<string, number[]>();
  for (const item of items) {
    let topic = perPartition.get(item.topic);
    if (topic === undefined) perPartition.set(item.topic, topic = []);
    const bytes = topic[item.partition] ?? 0;
    if (bytes > 0 && bytes + item.bytes > maxBytes) {
      requests.push(request);
      request = [];
      perPartition = new Map([[item.topic, topic = []]]);
    }
    request.push(item);
    topic[item.partition] = (topic[item.partition] ?? 0) + item.bytes;
  }
  if (request.length > 0) requests.push(request);
  return requests;
}

/**
 * One Kafka record as a handler receives it. Shared by the worker (which
 * hands it to handlers) and the Kafka engines (which build it), so it lives
 * below both layers.
 *
 * @module
 */

/** One Kafka record, as a handler sees it. */
export interface Message {
  topic: string;
  partition: number;
  /** 64-bit offset, as a decimal string. */
  offset: string;
  key: Uint8Array | null;
  value: Uint8Array | null;
  headers: Record<string, Uint8Array | Uint8Array[] | undefined>;
  /** Milliseconds since the epoch, as a decimal string. */
  timestamp: string;
  /** The value decoded as UTF-8 ("" for a null value). */
  text(): string;
  /** The value parsed as JSON. */
  json<T = unknown>(): T;
}

const decoder = new TextDecoder();

/** A {@linkcode Message} whose helpers live on the prototype (no closures per message). */
class KafkaRecord implements Message {
  constructor(
    public topic: string,
    public partition: number,
    public offset: string,
    public key: Uint8Array | null,
    public value: Uint8Array | null,
    public headers: Message["headers"],
    public timestamp: string,
  ) {}

  text(): string {
    return this.value === null ? "" : decoder.decode(this.value);
  }

  json<T = unknown>(): T {
    return JSON.parse(this.text()) as T;
  }
}

/** Builds a {@linkcode Message} from raw parts. */
export function createMessage(parts: Omit<Message, "text" | "json">): Message {
  const { topic, partition, offset, key, value, headers, timestamp } = parts;
  return new KafkaRecord(topic, partition, offset, key, value, headers, timestamp);
}

/** Builds a {@linkcode Message} from positional parts: the client's hot path (one allocation). */
export function recordOf(
  topic: string,
  partition: number,
  offset: string,
  key: Uint8Array | null,
  value: Uint8Array | null,
  headers: Message["headers"],
  timestamp: string,
): Message {
  return new KafkaRecord(topic, partition, offset, key, value, headers, timestamp);
}

/**
 * A copy of `message` that owns its bytes. A client's messages are views
 * into the fetch response they came in: a message kept after its batch
 * (queued behind a slow key) would keep that whole response in memory.
 *
 * @example
 * ```ts
 * const kept = detachedMessage(batch.at(0)); // no longer holds the response's buffer
 * ```
 */
export function detachedMessage(message: Message): Message {
  const headers: Message["headers"] = {};
  for (const [name, value] of Object.entries(message.headers)) {
    headers[name] = value === undefined
      ? undefined
      : Array.isArray(value)
      ? value.map(copyBytes)
      : copyBytes(value);
  }
  return new KafkaRecord(
    message.topic,
    message.partition,
    message.offset,
    message.key === null ? null : copyBytes(message.key),
    message.value === null ? null : copyBytes(message.value),
    headers,
    message.timestamp,
  );
}

/**
 * A copy of `bytes`, of the same class: a Node `Buffer` stays one (its own
 * `slice()` would return a view, not a copy).
 */
function copyBytes(bytes: Uint8Array): Uint8Array {
  return Uint8Array.prototype.slice.call(bytes);
}

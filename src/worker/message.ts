/**
 * What a handler receives: the message and its context.
 *
 * @module
 */
import type { Logger } from "../log.ts";

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

/** What a handler may use besides the message. */
export interface Context {
  /** The consumer's name in consumers.yaml. */
  consumer: string;
  group: string;
  topic: string;
  log: Logger;
  /**
   * Commits every finished message's offset now. In `commit.mode: manual`
   * this is the only way offsets get committed.
   */
  commit(): Promise<void>;
  /**
   * Batch handlers (`handleBatch`): marks `message` and every message before
   * it in this call's batch as finished. When the handler then throws, the
   * next attempt gets only the messages after them, and once attempts are
   * spent only the message after the last acked one is dead-lettered. A
   * no-op for per-message handlers, whose message finishes when they return.
   */
  ack(message: Message): void;
  /**
   * Aborted when the worker is asked to stop. A handler that rejects
   * because of it leaves its message unfinished: it is not retried, not
   * dead-lettered, not committed, and is handled again after the restart.
   */
  signal: AbortSignal;
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

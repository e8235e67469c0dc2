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
  /** Aborted when the worker is asked to stop. */
  signal: AbortSignal;
}

const decoder = new TextDecoder();

/** Builds a {@linkcode Message} from raw parts. */
export function createMessage(parts: Omit<Message, "text" | "json">): Message {
  return {
    ...parts,
    text() {
      return this.value === null ? "" : decoder.decode(this.value);
    },
    json<T>(): T {
      return JSON.parse(this.text()) as T;
    },
  };
}

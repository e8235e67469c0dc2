/**
 * Dead-lettering: a message whose handler failed every attempt is produced
 * to the consumer's `deadLetterTopic`, with headers that say where it came
 * from and why, before its offset may be committed.
 *
 * @module
 */
import type { Message } from "../../message.ts";
import type { RecordProducer } from "../record_producer.ts";
import type { ProduceRecord } from "../../produce_record.ts";

/** Produces failed messages to a dead-letter topic. */
export interface DeadLetterSink {
  /** Resolves once the broker acknowledged the copy (acks: all). */
  send(topic: string, message: Message, error: unknown): Promise<void>;
}

/** Headers added to a dead-lettered copy, so that it can be traced and replayed. */
export function deadLetterHeaders(
  message: Message,
  error: unknown,
  consumer: string,
): Record<string, string> {
  return {
    "consumerd.consumer": consumer,
    "consumerd.source.topic": message.topic,
    "consumerd.source.partition": String(message.partition),
    "consumerd.source.offset": message.offset,
    "consumerd.error": error instanceof Error ? `${error.name}: ${error.message}` : String(error),
  };
}

/**
 * A sink that sends through `producer` (the worker's one producer): each
 * copy keeps the original key, value, headers and timestamp, and adds
 * {@linkcode deadLetterHeaders}.
 */
export function createDeadLetterSink(
  producer: Pick<RecordProducer, "send">,
  consumer: string,
): DeadLetterSink {
  return {
    async send(topic, message, error) {
      await producer.send(deadLetterRecord(topic, message, error, consumer));
    },
  };
}

/**
 * The dead-lettered copy of `message` for `topic`: its key, value, headers
 * and timestamp, and {@linkcode deadLetterHeaders}.
 */
export function deadLetterRecord(
  topic: string,
  message: Message,
  error: unknown,
  consumer: string,
): ProduceRecord & { timestamp: string } {
  return {
    topic,
    key: message.key,
    value: message.value,
    headers: { ...message.headers, ...deadLetterHeaders(message, error, consumer) },
    timestamp: message.timestamp,
  };
}

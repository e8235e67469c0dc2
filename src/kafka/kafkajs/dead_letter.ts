/**
 * Dead-lettering: a message whose handler failed every attempt is produced
 * to the consumer's `deadLetterTopic`, with headers that say where it came
 * from and why, before its offset may be committed.
 *
 * @module
 */
import { Buffer } from "node:buffer";
import type { Producer } from "kafkajs";
import type { KafkaConfig } from "../../config/types.ts";
import type { Logger } from "../../log.ts";
import type { Message } from "../../message.ts";
import { createKafka } from "./client.ts";

/** Produces failed messages to a dead-letter topic. */
export interface DeadLetterSink {
  /** Resolves once the broker acknowledged the copy (acks: all). */
  send(topic: string, message: Message, error: unknown): Promise<void>;
  close(): Promise<void>;
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

function toBuffer(bytes: Uint8Array | null): Buffer | null {
  return bytes === null ? null : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** Creates a sink with its own idempotent producer, connected on first use. */
export function createDeadLetterSink(
  kafka: KafkaConfig,
  { clientIdSuffix, consumer, logger }: {
    clientIdSuffix: string;
    consumer: string;
    logger: Logger;
  },
): DeadLetterSink {
  let producer: Producer | null = null;
  let connected: Promise<void> | null = null;
  return {
    async send(topic, message, error) {
      if (producer === null) {
        producer = createKafka(kafka, { clientIdSuffix: `${clientIdSuffix}-dlq`, logger }).producer(
          {
            allowAutoTopicCreation: false,
            idempotent: true,
          },
        );
      }
      // A failed connect is forgotten: the next message connects again.
      const ready = connected ??= producer.connect().catch((error) => {
        connected = null;
        throw error;
      });
      await ready;
      const original: Record<string, Buffer | Buffer[]> = {};
      for (const [k, v] of Object.entries(message.headers)) {
        // A header may repeat: kafkajs gives its values as an array, and takes them back so.
        if (v instanceof Uint8Array) original[k] = toBuffer(v)!;
        else if (Array.isArray(v)) original[k] = v.map((b) => toBuffer(b)!);
      }
      await producer.send({
        topic,
        acks: -1,
        messages: [{
          key: toBuffer(message.key),
          value: toBuffer(message.value),
          headers: { ...original, ...deadLetterHeaders(message, error, consumer) },
          timestamp: message.timestamp,
        }],
      });
    },
    async close() {
      if (producer !== null) await producer.disconnect();
    },
  };
}

/**
 * kafkajs's messages as the handler's {@linkcode Message}, for both
 * sessions of the kafkajs engine.
 *
 * @module
 */
import type { KafkaMessage } from "kafkajs";
import { type Message, recordOf } from "../../message.ts";

/** Converts a kafkajs message into a handler {@linkcode Message}. */
export function toMessage(topic: string, partition: number, m: KafkaMessage): Message {
  // kafkajs's Buffers are Uint8Arrays already: no copy, no new view.
  return recordOf(
    topic,
    partition,
    m.offset,
    m.key ?? null,
    m.value ?? null,
    (m.headers ?? {}) as Message["headers"],
    m.timestamp,
  );
}

/**
 * The sample handler: logs each message it receives.
 *
 * @module
 */
import type { Context, Message } from "../src/mod.ts";

/** Logs the message's partition, offset, key and value. */
export default function handle(message: Message, ctx: Context): void {
  ctx.log.info("message", {
    topic: message.topic,
    partition: message.partition,
    offset: message.offset,
    key: message.key === null ? null : new TextDecoder().decode(message.key),
    value: message.text(),
  });
}

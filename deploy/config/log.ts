/**
 * The example handler of the container configuration: logs each message.
 *
 * It imports nothing, so that it runs from any directory it is mounted in;
 * for types, import them from consumerd's `src/mod.ts` (type-only imports
 * are erased at run time).
 *
 * @module
 */

/** The parts of a consumerd `Message` this handler reads. */
interface LoggedMessage {
  partition: number;
  offset: string;
  text(): string;
}

/** The part of a consumerd `Context` this handler uses. */
interface LogContext {
  log: { info(msg: string, fields: Record<string, unknown>): void };
}

/** Logs the message's partition, offset and value. */
export default function handle(message: LoggedMessage, ctx: LogContext): void {
  ctx.log.info("handled", {
    partition: message.partition,
    offset: message.offset,
    value: message.text(),
  });
}

/**
 * The types a handler module imports.
 *
 * @example
 * ```ts
 * import type { Context, Message } from "../src/mod.ts";
 *
 * export default async function handle(message: Message, ctx: Context): Promise<void> {
 *   ctx.log.info("got", { offset: message.offset, value: message.text() });
 * }
 * ```
 *
 * @module
 */
export type { LogFields, Logger } from "./log.ts";
export type { Message } from "./message.ts";
export type { ProduceRecord, RecordBytes } from "./produce_record.ts";
export type { Context } from "./worker/context.ts";
export type { HandlerModule } from "./worker/handler.ts";

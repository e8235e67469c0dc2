/**
 * What a handler may use besides the message.
 *
 * @module
 */
import type { Logger } from "../log.ts";
import type { Message } from "../message.ts";
import type { ProduceRecord } from "../produce_record.ts";

/**
 * What a handler may use besides the message. `Settings` is the type of
 * the consumer's `settings:` as the handler expects them (`unknown` until
 * it says so).
 *
 * @example
 * ```ts
 * export default function handle(message: Message, ctx: Context<{ table: string }>): void {
 *   ctx.log.info("insert", { table: ctx.settings.table, offset: message.offset });
 * }
 * ```
 */
export interface Context<Settings = unknown> {
  /** The consumer's name in consumers.yaml. */
  consumer: string;
  group: string;
  topic: string;
  /**
   * The consumer's `settings:` from consumers.yaml (with `defaults:` merged
   * in and `${VAR}` replaced), the same value in `setup()` and every call;
   * `{}` when it has none.
   */
  settings: Settings;
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
   * Writes `record` to one of the consumer's `outputs` (any other topic
   * rejects, naming the field) with the worker's idempotent producer, and
   * resolves once the broker acknowledged it (acks: all). The message a call
   * handles is finished, and committed, only once the call returned and
   * every record it produced was acknowledged; a record that fails fails
   * the call (retried, then dead-lettered or paused, as a handler that
   * throws). At-least-once: a call that is tried again produces again.
   * Awaiting each produce keeps the outputs in the order of the messages.
   *
   * @example
   * ```ts
   * export default async function handle(message: Message, ctx: Context): Promise<void> {
   *   await ctx.produce({
   *     topic: "orders.enriched",
   *     key: message.key,
   *     value: JSON.stringify({ ...message.json<object>(), seen: true }),
   *     headers: message.headers,
   *   });
   * }
   * ```
   */
  produce(record: ProduceRecord): Promise<void>;
  /**
   * Aborted when the worker is asked to stop. A handler that rejects
   * because of it leaves its message unfinished: it is not retried, not
   * dead-lettered, not committed, and is handled again after the restart.
   */
  signal: AbortSignal;
}

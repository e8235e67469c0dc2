/**
 * The handler API as one self-contained declaration file, for
 * `consumerd types`. Generated from the types src/mod.ts exports by
 * `deno task generate` (scripts/handler_api.ts); do not edit.
 *
 * @module
 */

/** The text of consumerd.d.ts. */
export const HANDLER_API: string =
  `// The consumerd handler API, written by \`consumerd types\`: import its types with
//   import type { Context, Message } from "./consumerd.d.ts";
// Write it again with the consumerd you run when you upgrade.

/** Fields attached to a record; values must be JSON-serialisable. */
export type LogFields = Record<string, unknown>;

/** A logger bound to a set of fields (e.g. the consumer's name). */
export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
  /** A logger that adds \`fields\` to every record. */
  child(fields: LogFields): Logger;
}

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

/**
 * A record for \`ctx.produce()\`: its topic must be one of the consumer's
 * \`outputs\`. Without \`partition\`, the key picks the partition (Kafka's
 * default partitioner: murmur2 of the key; records without a key are
 * spread). A message's \`headers\` may be passed on as they are.
 *
 * @example
 * \`\`\`ts
 * await ctx.produce({
 *   topic: "orders.enriched",
 *   key: message.key,
 *   value: JSON.stringify({ ...message.json<object>(), enriched: true }),
 *   headers: message.headers,
 * });
 * \`\`\`
 */
export interface ProduceRecord {
  /** One of the consumer's \`outputs\`. */
  topic: string;
  key?: RecordBytes | null;
  value: RecordBytes | null;
  /** A header with a list of values is sent once per value, in order. */
  headers?: Record<string, RecordBytes | RecordBytes[] | undefined>;
  /** The partition to write to; default: chosen by the key. */
  partition?: number;
}

/** Bytes or text (sent as UTF-8). */
export type RecordBytes = string | Uint8Array;

/**
 * What a handler may use besides the message. \`Settings\` is the type of
 * the consumer's \`settings:\` as the handler expects them (\`unknown\` until
 * it says so).
 *
 * @example
 * \`\`\`ts
 * export default function handle(message: Message, ctx: Context<{ table: string }>): void {
 *   ctx.log.info("insert", { table: ctx.settings.table, offset: message.offset });
 * }
 * \`\`\`
 */
export interface Context<Settings = unknown> {
  /** The consumer's name in consumers.yaml. */
  consumer: string;
  group: string;
  topic: string;
  /**
   * The consumer's \`settings:\` from consumers.yaml (with \`defaults:\` merged
   * in and \`\${VAR}\` replaced), the same value in \`setup()\` and every call;
   * \`{}\` when it has none.
   */
  settings: Settings;
  log: Logger;
  /**
   * Commits every finished message's offset now. In \`commit.mode: manual\`
   * this is the only way offsets get committed.
   */
  commit(): Promise<void>;
  /**
   * Batch handlers (\`handleBatch\`): marks \`message\` and every message before
   * it in this call's batch as finished. When the handler then throws, the
   * next attempt gets only the messages after them, and once attempts are
   * spent only the message after the last acked one is dead-lettered. A
   * no-op for per-message handlers, whose message finishes when they return.
   */
  ack(message: Message): void;
  /**
   * Writes \`record\` to one of the consumer's \`outputs\` (any other topic
   * rejects, naming the field) with the worker's idempotent producer, and
   * resolves once the broker acknowledged it (acks: all). The message a call
   * handles is finished, and committed, only once the call returned and
   * every record it produced was acknowledged; a record that fails fails
   * the call (retried, then dead-lettered or paused, as a handler that
   * throws). At-least-once: a call that is tried again produces again.
   * Awaiting each produce keeps the outputs in the order of the messages.
   *
   * @example
   * \`\`\`ts
   * export default async function handle(message: Message, ctx: Context): Promise<void> {
   *   await ctx.produce({
   *     topic: "orders.enriched",
   *     key: message.key,
   *     value: JSON.stringify({ ...message.json<object>(), seen: true }),
   *     headers: message.headers,
   *   });
   * }
   * \`\`\`
   */
  produce(record: ProduceRecord): Promise<void>;
  /**
   * Aborted when the worker is asked to stop. A handler that rejects
   * because of it leaves its message unfinished: it is not retried, not
   * dead-lettered, not committed, and is handled again after the restart.
   */
  signal: AbortSignal;
}

/** The exports consumerd looks for in a handler module. */
export interface HandlerModule {
  default?: (message: Message, ctx: Context) => unknown;
  handleBatch?: (messages: Message[], ctx: Context) => unknown;
  setup?: (ctx: Context) => unknown;
  teardown?: (ctx: Context) => unknown;
}
`;

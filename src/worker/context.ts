/**
 * What a handler may use besides the message.
 *
 * @module
 */
import type { Logger } from "../log.ts";
import type { Message } from "../message.ts";

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

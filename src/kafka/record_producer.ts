/**
 * A worker's one producer, for the handler's outputs (`ctx.produce()`
 * under `delivery: at-least-once`) and the dead-letter copies: idempotent,
 * every record acknowledged by all in-sync replicas (acks: all). Each
 * engine has its own, loaded only by a worker that produces.
 *
 * @module
 */
import type { Engine, KafkaConfig } from "../config/types.ts";
import type { Logger } from "../log.ts";
import type { ProduceRecord } from "../produce_record.ts";

/** Sends records; each promise resolves once the broker acknowledged its record. */
export interface RecordProducer {
  /** Resolves once the broker acknowledged `record` (acks: all); rejects with the client's error. */
  send(record: ProduceRecord & { timestamp?: string }): Promise<void>;
  /**
   * Connects ahead of the first record, so that it does not wait for the
   * connection; rejects with the client's error, which is then forgotten
   * (the next record connects again).
   */
  connect(): Promise<void>;
  /**
   * Lets what was handed over before go out for up to `flushMs` (default
   * {@linkcode CLOSE_FLUSH_MS}), then closes: what is still queued fails, and
   * a record sent from then on is refused ({@linkcode closedError}).
   */
  close(flushMs?: number): Promise<void>;
}

/**
 * How long close() lets records handed over before it go out. Their inputs
 * are not committed yet (a commit waits for the outputs' acks), so what does
 * not make it is produced again with them.
 */
export const CLOSE_FLUSH_MS = 1000;

/** The error of a record sent once the producer is closing or closed. */
export function closedError(): Error {
  return new Error("Cannot produce: the worker's producer is closed");
}

/** Resolves once every flush in `flushes` ended, or after `ms`. */
export async function flushesEnded(
  flushes: Iterable<Promise<void> | null>,
  ms: number,
): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([
    Promise.all(flushes),
    new Promise<void>((resolve) => timer = setTimeout(resolve, Math.max(0, ms))),
  ]);
  clearTimeout(timer);
}

/** Options of a worker's producer. */
export interface RecordProducerOptions {
  /** Appended (with `-out`) to the client id. */
  clientIdSuffix: string;
  logger: Logger;
  /**
   * Called as each record is acknowledged (`failed` false) or fails, right
   * before its promise settles: the worker's produce metrics.
   */
  settled?(record: ProduceRecord, failed: boolean): void;
}

/**
 * Creates the producer of a worker on `engine`, connected on first use or
 * by `connect()`.
 *
 * @example
 * ```ts ignore
 * const producer = await createRecordProducer("platformatic", kafka, { clientIdSuffix: "audit-0", logger });
 * await producer.send({ topic: "orders.enriched", key: "k", value: "v" });
 * ```
 */
export async function createRecordProducer(
  engine: Engine,
  kafka: KafkaConfig,
  options: RecordProducerOptions,
): Promise<RecordProducer> {
  if (engine === "platformatic") {
    const { createPlatformaticProducer } = await import("./platformatic/record_producer.ts");
    return createPlatformaticProducer(kafka, options);
  }
  const { createKafkajsProducer } = await import("./kafkajs/record_producer.ts");
  return createKafkajsProducer(kafka, options);
}

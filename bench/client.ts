/**
 * What the benchmark runs: a client (B0, B1, B2 or R) that consumes one
 * seeded topic once with a fresh group and reports a {@linkcode Sample}.
 *
 * @module
 */
import type { Engine } from "../src/config/types.ts";
import type { JsRuntime } from "./runtimes.ts";
import type { Sample } from "./sample.ts";
import type { SeededTopic } from "./seed.ts";

/** A consumerd Kafka client engine. */
export type { Engine };

/**
 * B0 Kafka's Java consumer perf tool, B1 raw kafkajs, B2 raw
 * @platformatic/kafka, B3 franz-go (Go), R consumerd; PC Confluent's
 * Parallel Consumer (Java; the slow-handler section only).
 */
export type Family = "B0" | "B1" | "B2" | "B3" | "R" | "PC";

/**
 * The order a slow-handler client keeps: one call per partition at a time,
 * one per key, or none (the Parallel Consumer's PARTITION, KEY, UNORDERED).
 */
export type Ordering = "partition" | "key" | "none";

/** Every ordering, in the report's order. */
export const ORDERINGS: readonly Ordering[] = ["partition", "key", "none"];

/** The slow-handler section's settings of a client: its ordering and calls in flight. */
export interface SlowSettings {
  ordering: Ordering;
  concurrency: number;
}

/** What a consume→produce client promises (bench/produce_section.ts). */
export type Delivery = "at-least-once" | "exactly-once";

/** How the handler is called: per message, per fetched batch, or Java's poll loop. */
export type HandlerMode = "message" | "batch" | "poll";

/** One benchmark client. */
export interface Client {
  /** Unique label, e.g. `B1 node eachBatch`. */
  label: string;
  family: Family;
  runtime: JsRuntime | "java" | "go";
  mode: HandlerMode;
  /** R only: the consumerd engine it runs with. */
  engine?: Engine;
  /** Slow-handler clients only: ordering and concurrency. */
  slow?: SlowSettings;
  /** Consume→produce clients only: the delivery of their outputs. */
  delivery?: Delivery;
  /** Builds what the client needs (once, before its first run); throws when it cannot. */
  prepare?(): Promise<void>;
  /** Consumes every record of `topic` from earliest with `group`, measured. */
  run(topic: SeededTopic, group: string): Promise<Sample>;
}

/** How long to wait for the first message (start-up and group join included), ms. */
export const FIRST_MESSAGE_TIMEOUT_MS = 90_000;

/** How long to wait from the first to the last message: generous, at `minRate` (5,000 msg/s) or slower. */
export function doneTimeoutMs(topic: SeededTopic): number {
  return 30_000 + (topic.count * 1000) / (topic.minRate ?? 5_000);
}

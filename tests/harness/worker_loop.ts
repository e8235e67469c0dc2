/**
 * Runs a worker loop (src/worker/loop.ts) in the test's own process against
 * the real broker, with a `post` that records every message the worker
 * sends its supervisor, and when.
 *
 * @module
 */
import { stringify } from "yaml";
import type { ConsumerConfig, ConsumerLines, Engine } from "../../src/config/types.ts";
import { parseConfig } from "../../src/config/mod.ts";
import type { ConfigSource, WorkerMessage } from "../../src/protocol.ts";
import { startWorkerLoop, type WorkerLoop } from "../../src/worker/loop.ts";
import { BROKERS, waitFor } from "./kafka.ts";

/** A message the worker posted, with `performance.now()` when it did. */
export type Posted = WorkerMessage & { at: number };

/** A worker loop running in this process. */
export interface LocalWorker {
  loop: WorkerLoop;
  consumer: ConsumerConfig;
  posted: Posted[];
  /** The messages of one type posted so far. */
  of<T extends WorkerMessage["type"]>(type: T): Array<Extract<Posted, { type: T }>>;
  /** Drains and stops the loop (at most `deadlineMs` from now). */
  stop(deadlineMs?: number): Promise<void>;
}

/**
 * Starts a worker loop for one consumer (`fields` as written in
 * consumers.yaml, e.g. `{ group, topic, handler, commit: { mode: "manual" } }`)
 * on the test broker, with `engine`.
 */
export async function startLocalWorker(
  fields: Record<string, unknown>,
  {
    engine = "kafkajs",
    heartbeatIntervalMs = 1000,
    brokers = BROKERS,
    onPost,
    source = false,
    kafka = {},
  }: {
    engine?: Engine;
    /** More fields of `kafka:`, e.g. `{ sessionTimeoutMs: 6000 }`. */
    kafka?: Record<string, unknown>;
    /** Tell the worker where the consumer is written (as the supervisor does), as `consumers.yaml`. */
    source?: boolean;
    heartbeatIntervalMs?: number;
    brokers?: string[];
    /** Called with every message as the worker posts it. */
    onPost?: (message: WorkerMessage) => void;
  } = {},
): Promise<LocalWorker> {
  const config = parseConfig(
    stringify({ kafka: { brokers, engine, ...kafka }, consumers: [{ name: "c", ...fields }] }),
    { file: "/consumers.yaml", env: {} },
  );
  const consumer = config.consumers[0]!;
  const posted: Posted[] = [];
  const loop = await startWorkerLoop({
    v: 1,
    type: "start",
    consumer,
    kafka: config.kafka,
    replica: 0,
    recovery: false,
    heartbeatIntervalMs,
    logFormat: "json",
    ...(source ? { source: sourceOf(config.lines?.["c"]) } : {}),
  }, (message) => {
    posted.push({ ...message, at: performance.now() });
    onPost?.(message);
  });
  const of = <T extends WorkerMessage["type"]>(type: T) =>
    posted.filter((m): m is Extract<Posted, { type: T }> => m.type === type);
  return {
    loop,
    consumer,
    posted,
    of,
    async stop(deadlineMs = 10_000) {
      await loop.stop(Date.now() + deadlineMs);
    },
  };
}

/** Waits until the worker reported `started` for its first assignment, and returns it. */
export async function firstStart(
  worker: LocalWorker,
  timeoutMs = 30_000,
): Promise<Extract<Posted, { type: "started" }>> {
  return await waitFor(() => worker.of("started").find((s) => s.started.length > 0), {
    timeoutMs,
    what: "the first started assignment",
  });
}

function sourceOf(lines: ConsumerLines | undefined): ConfigSource {
  return {
    file: "consumers.yaml",
    topicLine: lines?.topic ?? null,
    handlerLine: lines?.handler ?? null,
    ...(lines ? { place: { ...lines.place, file: "consumers.yaml" } } : {}),
  };
}

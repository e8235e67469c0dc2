/**
 * The worker's fetch → handle → commit loop for one consumer replica.
 *
 * @module
 */
import { createLogger, errorFields, type Logger } from "../log.ts";
import {
  type PartitionProgress,
  type SupervisorMessage,
  toErrorData,
  type WorkerMessage,
} from "../protocol.ts";
import {
  type ConsumerSession,
  type FetchedBatch,
  startConsumerSession,
} from "../kafka/consumer.ts";
import { type Handler, type HandlerModule, handlerOf, importHandlerModule } from "./handler.ts";
import type { Context, Message } from "./message.ts";
import { backoffDelay } from "../supervisor/backoff.ts";

type StartMessage = Extract<SupervisorMessage, { type: "start" }>;

/** A running worker loop. */
export interface WorkerLoop {
  /** Drains and stops: resolves once offsets are committed and the group is left. */
  stop(deadlineMs: number): Promise<void>;
}

const REPORT_INTERVAL_MS = 1000;

/**
 * Starts the loop described by a `start` message; progress goes out through `post`.
 */
export async function startWorkerLoop(
  start: StartMessage,
  post: (message: WorkerMessage) => void,
): Promise<WorkerLoop> {
  const { consumer } = start;
  const log: Logger = createLogger({
    format: start.logFormat,
    fields: { consumer: consumer.name, replica: start.replica },
  });
  const abort = new AbortController();
  const progress = new Map<number, PartitionProgress>();
  const dirty = new Set<number>();
  let assigned: number[] = [];
  let busySince: number | null = null;
  let session: ConsumerSession | null = null;

  const touch = (partition: number): PartitionProgress => {
    let p = progress.get(partition);
    if (!p) {
      p = { partition, processed: null, committed: null, highWatermark: null };
      progress.set(partition, p);
    }
    dirty.add(partition);
    return p;
  };

  const commitFinished = async () => {
    const offsets = [...progress.values()]
      .filter((p) => p.processed !== null && assigned.includes(p.partition))
      .map((p) => ({ partition: p.partition, offset: String(BigInt(p.processed!) + 1n) }))
      .filter((o) => o.offset !== progress.get(o.partition)?.committed);
    await session?.commit(offsets);
  };

  const ctx: Context = {
    consumer: consumer.name,
    group: consumer.group,
    topic: consumer.topic,
    log: log.child({ source: "handler" }),
    commit: commitFinished,
    signal: abort.signal,
  };

  const module: HandlerModule = await importHandlerModule(consumer.handler);
  const handler: Handler = handlerOf(module, consumer.handler);
  await module.setup?.(ctx);

  const heartbeat = setInterval(
    () =>
      post({ v: 1, type: "heartbeat", busyMs: busySince === null ? null : Date.now() - busySince }),
    start.heartbeatIntervalMs,
  );
  const report = setInterval(() => {
    if (dirty.size === 0) return;
    const partitions = [...dirty].map((p) => ({ ...progress.get(p)! }));
    dirty.clear();
    post({ v: 1, type: "offsets", partitions });
  }, REPORT_INTERVAL_MS);

  /** Runs `fn` until it succeeds or the retry policy is spent; returns the last error or null. */
  const withRetry = async (fn: () => unknown, first: Message): Promise<unknown> => {
    const { attempts, backoffMs, maxBackoffMs } = consumer.retry;
    for (let attempt = 1;; attempt++) {
      try {
        busySince = Date.now();
        await fn();
        return null;
      } catch (error) {
        if (attempt >= attempts || abort.signal.aborted) return error;
        const delay = backoffDelay(attempt, {
          baseMs: backoffMs,
          maxMs: maxBackoffMs,
          jitter: 0.2,
        });
        log.warn("handler failed; retrying", {
          partition: first.partition,
          offset: first.offset,
          attempt,
          delayMs: Math.round(delay),
          ...errorFields(error),
        });
        await sleep(delay, abort.signal);
      } finally {
        busySince = null;
      }
    }
  };

  const failPartition = (batch: FetchedBatch, message: Message, error: unknown) => {
    batch.pause();
    log.error("handler failed after retries; partition paused", {
      partition: message.partition,
      offset: message.offset,
      ...errorFields(error),
    });
    post({ v: 1, type: "error", error: toErrorData(error), fatal: false });
    const timer = setTimeout(
      () => session?.resume([message.partition]),
      consumer.retry.maxBackoffMs,
    );
    abort.signal.addEventListener("abort", () => clearTimeout(timer));
  };

  const onBatch = async (batch: FetchedBatch) => {
    const p = touch(batch.partition);
    p.highWatermark = batch.highWatermark;
    if (handler.kind === "batch") {
      const first = batch.messages[0];
      if (!first || !batch.active()) return;
      const error = await withRetry(() => handler.fn(batch.messages, ctx), first);
      if (error !== null) return failPartition(batch, first, error);
      const last = batch.messages[batch.messages.length - 1]!;
      batch.resolve(last.offset);
      p.processed = last.offset;
      return;
    }
    for (const message of batch.messages) {
      if (!batch.active()) return;
      const error = await withRetry(() => handler.fn(message, ctx), message);
      if (error !== null) return failPartition(batch, message, error);
      batch.resolve(message.offset);
      p.processed = message.offset;
    }
  };

  const connect = async () => {
    for (let attempt = 1; !abort.signal.aborted; attempt++) {
      try {
        session = await startConsumerSession({
          kafka: start.kafka,
          clientIdSuffix: `${consumer.name}-${start.replica}`,
          group: consumer.group,
          topic: consumer.topic,
          autoOffsetReset: consumer.autoOffsetReset,
          autoCommit: consumer.commit.mode === "auto",
          logger: log,
          onBatch,
          onAssigned: (partitions) => {
            const revoked = assigned.filter((p) => !partitions.includes(p));
            assigned = partitions;
            if (revoked.length > 0) post({ v: 1, type: "revoked", partitions: revoked });
            post({ v: 1, type: "assigned", partitions });
          },
          onCommitted: (offsets) => {
            for (const { partition, offset } of offsets) touch(partition).committed = offset;
          },
          onFatal: (error) => {
            log.error("consumer crashed", errorFields(error));
            post({ v: 1, type: "error", error: toErrorData(error), fatal: true });
          },
        });
        post({ v: 1, type: "ready" });
        return;
      } catch (error) {
        const delay = backoffDelay(attempt, { baseMs: 1000, maxMs: 30_000, jitter: 0.2 });
        log.error(`cannot connect to Kafka: ${(error as Error).message}; retrying`, {
          brokers: start.kafka.brokers,
          attempt,
          delayMs: Math.round(delay),
          ...errorFields(error),
        });
        post({ v: 1, type: "error", error: toErrorData(error, true), fatal: false });
        await sleep(delay, abort.signal);
      }
    }
  };
  void connect();

  return {
    async stop(deadlineMs) {
      abort.abort();
      // Still connecting: nothing was fetched, so nothing needs committing.
      if (session === null) {
        clearInterval(heartbeat);
        clearInterval(report);
        return;
      }
      const drained = (async () => {
        await session?.stop();
        await module.teardown?.(ctx);
      })();
      const late = Symbol("late");
      const result = await Promise.race([
        drained.then(() => null, (error) => error),
        sleep(Math.max(0, deadlineMs - Date.now())).then(() => late),
      ]);
      clearInterval(heartbeat);
      clearInterval(report);
      post({ v: 1, type: "offsets", partitions: [...progress.values()] });
      if (result === late) throw new Error("the worker did not drain before its deadline");
      if (result !== null) throw result;
    },
  };
}

/** Resolves after `ms`, or at once when `signal` aborts. */
function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener("abort", () => {
      clearTimeout(timer);
      resolve();
    }, { once: true });
  });
}

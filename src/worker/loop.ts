/**
 * The worker's fetch → handle → commit loop for one consumer replica.
 *
 * @module
 */
import { StaleAssignmentError, startBalancedSession } from "../kafka/balanced_session.ts";
import { startSimpleSession } from "../kafka/simple_session.ts";
import { createDeadLetterSink } from "../kafka/dead_letter.ts";
import {
  type Assignment,
  batchMessages,
  type ConsumerSession,
  type FetchedBatch,
} from "../kafka/session.ts";
import { createLogger, errorFields, type Logger } from "../log.ts";
import { CommitTracker } from "../offsets/commit_tracker.ts";
import {
  type PartitionProgress,
  type SupervisorMessage,
  toErrorData,
  type WorkerMessage,
} from "../protocol.ts";
import { backoffDelay } from "../supervisor/backoff.ts";
import { startAssignment } from "./assignment.ts";
import { HandlerCalls } from "./handler_calls.ts";
import { sleep } from "./sleep.ts";
import { StatsCounter } from "./stats.ts";
import { ProblemPace, quietClientWarnings } from "./connect_log.ts";
import { describeKafkaError } from "../kafka/operator_error.ts";
import { type Handler, type HandlerModule, handlerOf, importHandlerModule } from "./handler.ts";
import type { Context, Message } from "./message.ts";

type StartMessage = Extract<SupervisorMessage, { type: "start" }>;

/** A running worker loop. */
export interface WorkerLoop {
  /** The supervisor's answer to an assignment (resetOffsetOnStart). */
  positions(generation: number, resetOnStart: number[]): void;
  /** Drains and stops: resolves once offsets are committed and the group is left. */
  stop(deadlineMs: number): Promise<void>;
}

const REPORT_INTERVAL_MS = 1000;
/** Error names for connection problems, as status shows them. */
const PROBLEM_NAMES = {
  "topic-missing": "TopicNotFound",
  "brokers-unreachable": "BrokersUnreachable",
  "other": "KafkaConnectionError",
} as const;
/** How often a long batch hands finished offsets to the client and heartbeats. */
const TICK_MS = 1000;

/** Starts the loop described by a `start` message; progress goes out through `post`. */
export async function startWorkerLoop(
  start: StartMessage,
  post: (message: WorkerMessage) => void,
): Promise<WorkerLoop> {
  const { consumer } = start;
  const log: Logger = createLogger({
    format: start.logFormat,
    fields: { consumer: consumer.name, replica: start.replica },
  });
  if (start.recovery) log.info("worker restarted after a failure: resuming from committed offsets");
  const abort = new AbortController();
  // stats: counters for metrics, posted with the offsets report.
  const stats = new StatsCounter();
  const where = (line: number | null | undefined) =>
    start.source && line ? ` (${start.source.file}:${line})` : "";
  const tracker = new CommitTracker();
  const highWatermarks = new Map<number, string>();
  const dirty = new Set<number>();
  /** The assignment being read, and the one waiting for the supervisor's `positions`. */
  let current: Assignment = { generation: 0, partitions: [] };
  let awaiting: Assignment | null = null;
  let session: ConsumerSession | null = null;
  /** Resolves with the session once connected (assignments can arrive while it connects). */
  let sessionReady!: (s: ConsumerSession) => void;
  const connected = new Promise<ConsumerSession>((resolve) => (sessionReady = resolve));
  const deadLetters = consumer.deadLetterTopic === null ? null : createDeadLetterSink(start.kafka, {
    clientIdSuffix: `${consumer.name}-${start.replica}`,
    consumer: consumer.name,
    logger: log,
  });
  const autoCommit = consumer.commit.mode === "auto";
  let lastCommitAt = Date.now();
  /** Partitions paused after a handler failure, with their resume timers. */
  const failed = new Map<number, ReturnType<typeof setTimeout>>();

  const progress = (partition: number): PartitionProgress => ({
    partition,
    processed: tracker.processed(partition),
    committed: tracker.committed(partition),
    highWatermark: highWatermarks.get(partition) ?? null,
  });

  const commitFinished = async () => {
    flushFinished?.();
    const pending = tracker.pending().filter((o) => current.partitions.includes(o.partition));
    if (pending.length === 0 || session === null) return;
    await session.commit(pending);
    tracker.markCommitted(pending);
    for (const o of pending) dirty.add(o.partition);
  };

  const ctx: Context = {
    consumer: consumer.name,
    group: consumer.group,
    topic: consumer.topic,
    log: log.child({ source: "handler" }),
    commit: commitFinished,
    signal: abort.signal,
  };

  let module: HandlerModule;
  let handler: Handler;
  try {
    module = await importHandlerModule(consumer.handler);
    handler = handlerOf(module, consumer.handler);
  } catch (error) {
    // stats: the consumer shows this as its `failed` reason.
    throw new Error(
      `cannot load handler ${consumer.handler}${where(start.source?.handlerLine)}: ${
        error instanceof Error ? error.message : String(error)
      }`,
      { cause: error },
    );
  }
  await module.setup?.(ctx);

  const calls = new HandlerCalls({ retry: consumer.retry, signal: abort.signal, log, stats });
  // The heartbeat comes from this thread's event loop: a busy loop stops it.
  const heartbeat = setInterval(() => {
    post({ v: 1, type: "heartbeat", busyMs: calls.busyMs(Date.now()) });
  }, start.heartbeatIntervalMs);
  const report = setInterval(() => {
    // stats: cumulative counters, when they changed.
    const snapshot = stats.take();
    if (snapshot !== null) post({ v: 1, type: "stats", stats: snapshot });
    if (dirty.size === 0) return;
    const partitions = [...dirty].map(progress);
    dirty.clear();
    post({ v: 1, type: "offsets", partitions });
  }, REPORT_INTERVAL_MS);

  /**
   * The handler gave up on `messages`: with a dead-letter topic, copy them
   * there and report them finished (returns true); without one, or if that
   * fails, the caller pauses the partition.
   */
  const deadLetter = async (messages: Message[], error: unknown): Promise<boolean> => {
    if (deadLetters === null || consumer.deadLetterTopic === null) return false;
    try {
      for (const m of messages) await deadLetters.send(consumer.deadLetterTopic, m, error);
    } catch (dlqError) {
      log.error("cannot dead-letter the message", {
        topic: consumer.deadLetterTopic,
        ...errorFields(dlqError),
      });
      return false;
    }
    for (const m of messages) {
      log.warn("message dead-lettered", {
        partition: m.partition,
        offset: m.offset,
        deadLetterTopic: consumer.deadLetterTopic,
        ...errorFields(error),
      });
    }
    post({ v: 1, type: "deadLettered", count: messages.length });
    return true;
  };

  /** The handler gave up on `message`: pause its partition, report, try again later. Never skip it. */
  const failPartition = (message: Message, error: unknown) => {
    const { partition } = message;
    session?.pause([partition]);
    log.error("handler failed after retries; partition paused", {
      partition,
      offset: message.offset,
      retryInMs: consumer.retry.maxBackoffMs,
      ...errorFields(error),
    });
    post({ v: 1, type: "error", error: toErrorData(error), fatal: false, partition });
    clearTimeout(failed.get(partition));
    failed.set(
      partition,
      setTimeout(() => {
        failed.delete(partition);
        session?.resume([partition]);
      }, consumer.retry.maxBackoffMs),
    );
  };

  // Partitions are processed one message (or batch) at a time, in order, so
  // "finished" is a prefix: the tracker is told about finished messages only,
  // in runs, and never about a message before its handler succeeded.
  /** Hands the batch in progress's finished messages to the tracker and the client. */
  let flushFinished: (() => void) | null = null;

  const onBatch = async (batch: FetchedBatch) => {
    const { partition, size } = batch;
    highWatermarks.set(partition, batch.highWatermark);
    dirty.add(partition);
    if (size === 0) return;
    if (tracker.committed(partition) === null && tracker.processed(partition) === null) {
      // Reset by the client after an out-of-range offset: restart the bookkeeping here.
      tracker.seed(partition, batch.at(0).offset);
    }
    if (handler.kind === "batch") {
      if (!batch.active()) return;
      const messages = batchMessages(batch);
      const first = messages[0]!;
      const t0 = performance.now(); // stats
      const pending = calls.call((m: Message[]) => handler.fn(m, ctx), messages, first);
      const error = pending === null ? null : await pending;
      if (error !== null && !await deadLetter(messages, error)) return failPartition(first, error);
      // stats:
      if (error === null) stats.handled(size, performance.now() - t0);
      else stats.skipped(size);
      const last = messages[size - 1]!.offset;
      tracker.begin(partition, last);
      tracker.finish(partition, last);
      batch.resolve(last);
      return;
    }
    const handle = handler.fn;
    const callHandler = (message: Message) => handle(message, ctx);
    /** The last finished message's offset not yet handed to the tracker and the client. */
    let finished: string | null = null;
    flushFinished = () => {
      if (finished === null) return;
      tracker.begin(partition, finished);
      tracker.finish(partition, finished);
      batch.resolve(finished);
      finished = null;
    };
    let tick = Date.now();
    try {
      for (let i = 0; i < size; i++) {
        if (!batch.active()) return;
        const message = batch.at(i);
        const t0 = performance.now(); // stats
        // Synchronous handlers return null here: no promise, no microtask.
        const pending = calls.call(callHandler, message, message);
        const error = pending === null ? null : await pending;
        if (error !== null && !await deadLetter([message], error)) {
          return failPartition(message, error);
        }
        // stats:
        if (error === null) stats.handled(1, performance.now() - t0);
        else stats.skipped(1);
        finished = message.offset;
        const now = Date.now();
        if (now - tick < TICK_MS) continue;
        // Once a second in a long batch: record what finished (a rebalance
        // then commits it), keep the membership alive (a rebalance ends the
        // batch here), and commit on the interval.
        tick = now;
        flushFinished();
        await batch.heartbeat();
        if (autoCommit && now - lastCommitAt >= consumer.commit.intervalMs) {
          lastCommitAt = now;
          await commitFinished();
        }
      }
    } finally {
      flushFinished();
      flushFinished = null;
    }
  };

  /** Starts reading an assignment once its start positions are known. */
  const begin = async (assignment: Assignment, heldAtStart: number[]) => {
    for (let attempt = 1; !abort.signal.aborted; attempt++) {
      try {
        const starts = await startAssignment(await connected, consumer, {
          ...assignment,
          heldAtStart,
        });
        for (const s of starts) {
          tracker.seed(s.partition, s.offset);
          dirty.add(s.partition);
          if (s.reason !== "committed") {
            log.info("partition reset", {
              partition: s.partition,
              offset: s.offset,
              reason: s.reason,
            });
          }
        }
        post({
          v: 1,
          type: "started",
          generation: assignment.generation,
          started: starts,
          abandoned: [],
        });
        return;
      } catch (error) {
        if (error instanceof StaleAssignmentError || assignment.generation !== current.generation) {
          post({
            v: 1,
            type: "started",
            generation: assignment.generation,
            started: [],
            abandoned: heldAtStart,
          });
          return;
        }
        const delay = backoffDelay(attempt, { baseMs: 500, maxMs: 10_000, jitter: 0.2 });
        log.warn("cannot start the assignment; retrying", {
          partitions: assignment.partitions,
          delayMs: Math.round(delay),
          ...errorFields(error),
        });
        await sleep(delay, abort.signal);
      }
    }
  };

  const onAssigned = (assignment: Assignment) => {
    stats.rebalance(); // stats
    const revoked = current.partitions.filter((p) => !assignment.partitions.includes(p));
    // Every partition's position is decided again for the new assignment.
    tracker.revoke(current.partitions);
    for (const [p, timer] of failed) {
      clearTimeout(timer);
      failed.delete(p);
    }
    current = assignment;
    if (revoked.length > 0) post({ v: 1, type: "revoked", partitions: revoked });
    const ask = consumer.resetOffsetOnStart;
    awaiting = ask ? assignment : null;
    post({ v: 1, type: "assigned", ...assignment, awaitingPositions: ask });
    if (!ask) void begin(assignment, []);
  };

  // Connection problems are logged in the config's terms, once, then slowly.
  const pace = new ProblemPace();
  const sessionLog = quietClientWarnings(log, () => session === null);
  const connect = async () => {
    for (let attempt = 1; !abort.signal.aborted; attempt++) {
      try {
        const startSession = consumer.mode === "simple" ? startSimpleSession : startBalancedSession;
        session = await startSession({
          kafka: start.kafka,
          clientIdSuffix: `${consumer.name}-${start.replica}`,
          group: consumer.group,
          topic: consumer.topic,
          partitions: consumer.partitions,
          autoOffsetReset: consumer.autoOffsetReset,
          autoCommit,
          fetch: consumer.fetch,
          logger: sessionLog,
          onBatch,
          onAssigned,
          onCommitted: (offsets) => {
            lastCommitAt = Date.now();
            tracker.markCommitted(offsets);
            for (const o of offsets) dirty.add(o.partition);
          },
          onOutOfRange: (partition) => {
            log.warn("committed offset out of range while reading; moved to autoOffsetReset", {
              partition,
              autoOffsetReset: consumer.autoOffsetReset,
            });
            tracker.revoke([partition]);
            post({ v: 1, type: "reset", partition });
          },
          onFatal: (error) => {
            log.error("consumer crashed", errorFields(error));
            post({ v: 1, type: "error", error: toErrorData(error), fatal: true });
          },
        });
        sessionReady(session);
        pace.clear();
        post({ v: 1, type: "ready" });
        return;
      } catch (error) {
        // A missing topic is polled more often than the log repeats: it may appear any time.
        const delay = backoffDelay(attempt, { baseMs: 1000, maxMs: 15_000, jitter: 0.2 });
        const problem = describeKafkaError(error, {
          topic: consumer.topic,
          brokers: start.kafka.brokers,
        });
        const message = problem.kind === "topic-missing"
          ? `${problem.message}${where(start.source?.topicLine)}; waiting for it`
          : `${problem.message}; retrying`;
        if (pace.shouldLog(message, Date.now())) {
          log.error(message, {
            brokers: start.kafka.brokers,
            topic: consumer.topic,
            attempt,
            ...errorFields(error),
          });
        }
        post({
          v: 1,
          type: "error",
          error: { name: PROBLEM_NAMES[problem.kind], message, retriable: true },
          fatal: false,
        });
        await sleep(delay, abort.signal);
      }
    }
  };
  void connect();

  return {
    positions(generation, resetOnStart) {
      if (
        awaiting === null || awaiting.generation !== generation || generation !== current.generation
      ) {
        // Answer to an assignment that was replaced meanwhile: its resets were not done.
        post({ v: 1, type: "started", generation, started: [], abandoned: resetOnStart });
        return;
      }
      const assignment = awaiting;
      awaiting = null;
      void begin(assignment, resetOnStart);
    },
    async stop(deadlineMs) {
      abort.abort();
      for (const timer of failed.values()) clearTimeout(timer);
      const stopTimers = () => {
        clearInterval(heartbeat);
        clearInterval(report);
      };
      // Still connecting: nothing was fetched, so nothing needs committing.
      if (session === null) return stopTimers();
      const active = session;
      // Auto mode: kafkajs commits the finished offsets as it stops. Manual
      // mode commits only what the handler asked for.
      const drained = (async () => {
        await active.stop();
        await deadLetters?.close();
        await module.teardown?.(ctx);
      })();
      const late = Symbol("late");
      const result = await Promise.race([
        drained.then(() => null, (error) => error),
        sleep(Math.max(0, deadlineMs - Date.now())).then(() => late),
      ]);
      stopTimers();
      post({ v: 1, type: "stats", stats: stats.snapshot() }); // stats
      post({ v: 1, type: "offsets", partitions: current.partitions.map(progress) });
      if (result === late) throw new Error("the worker did not drain before its deadline");
      if (result !== null) throw result;
    },
  };
}

/**
 * The worker's fetch → handle → commit loop for one consumer replica: the
 * glue between a Kafka session, the batch runs that call the handler
 * (`partition_runner.ts`), the commit tracker and the supervisor.
 *
 * @module
 */
import { engineOf, groupInstanceId, groupProtocolOf } from "../config/membership.ts";
import { loadEngine, startSession } from "../kafka/engine.ts";
import {
  type Assignment,
  type ConsumerSession,
  type FetchedBatch,
  type GroupMember,
  type PartitionOffset,
  StaleAssignmentError,
} from "../kafka/session.ts";
import { CommitRejectedError } from "../kafka/commit_rejected.ts";
import { createLogger, errorFields, type Logger } from "../log.ts";
import { CommitTracker } from "../offsets/commit_tracker.ts";
import {
  type DecidedReset,
  type PartitionProgress,
  type SupervisorMessage,
  toErrorData,
  type WorkerMessage,
} from "../protocol.ts";
import { backoffDelay } from "../backoff.ts";
import { AssignmentStart } from "./assignment.ts";
import { tickMs } from "./commit_policy.ts";
import { sleep } from "./sleep.ts";
import { TurnPacer } from "./event_loop.ts";
import { StatsCounter } from "./stats.ts";
import { Watermarks } from "./watermarks.ts";
import { ProblemPace, quietClientWarnings } from "./connect_log.ts";
import { describeKafkaError } from "../kafka/operator_error.ts";
import { type Handler, type HandlerModule, handlerOf, importHandlerModule } from "./handler.ts";
import type { Message } from "../message.ts";
import { type ProduceRecord, recordBytes } from "../produce_record.ts";
import { explainHandlerError } from "./handler_error.ts";
import { permissionDenial } from "../config/permission_denial.ts";
import type { Context } from "./context.ts";
import { BatchRun, type BatchRunOptions } from "./partition_runner.ts";
import { KeyedWork } from "./keyed_work.ts";
import {
  commitModeField,
  OutputNotAllowedError,
  Outputs,
  outputsField,
  producingHandler,
  transactionalHandler,
} from "./outputs.ts";
import { createDeadLetterSink, deadLetterRecord } from "../kafka/kafkajs/dead_letter.ts";
import {
  CLOSE_FLUSH_MS,
  createRecordProducer,
  type RecordProducer,
} from "../kafka/record_producer.ts";
import type { TransactionalCommitter } from "../kafka/platformatic/transactions.ts";
import { MAX_WAITING_BYTES, TransactionBuffer } from "./transaction_buffer.ts";
import { type Collect, releaseStartupMemory } from "./startup_memory.ts";
import { hostname } from "node:os";

type StartMessage = Extract<SupervisorMessage, { type: "start" }>;

/** A running worker loop. */
export interface WorkerLoop {
  /**
   * The supervisor's answer to an assignment (resetOffsetOnStart): the
   * partitions to reset, and resets of them an abandoned start decided.
   */
  positions(generation: number, resetOnStart: number[], decided?: DecidedReset[]): void;
  /**
   * Drains and stops: resolves once offsets are committed and the group is
   * left (unless `leave` is false and the member is static) — with the
   * member id when leaving could not finish in time (the group was
   * rebalancing): the supervisor then removes the member.
   */
  stop(deadlineMs: number, options?: { leave?: boolean }): Promise<{ evict: string | null }>;
}

const REPORT_INTERVAL_MS = 1000;
/** Error names for connection problems, as status shows them. */
const PROBLEM_NAMES = {
  "topic-missing": "TopicNotFound",
  "brokers-unreachable": "BrokersUnreachable",
  "authentication-failed": "AuthenticationFailed",
  "tls-failed": "TlsFailed",
  "other": "KafkaConnectionError",
} as const;
/** How often the membership is kept alive while a handler call runs. */
const KEEPALIVE_MS = 1000;
/**
 * How long handlers may hold the worker's event loop before a batch lets it
 * turn: the heartbeat (every second, missed for 10 s before the supervisor
 * restarts the worker) and the client's timers run at least this often.
 */
const TURN_EVERY_MS = 1000;
/** How soon a paused partition whose resume failed (the client was restarting) is resumed again. */
const RESUME_RETRY_MS = 1000;
/**
 * How long leaving the group may take once everything is committed. kafkajs
 * finishes a rejoin it started before it leaves, which waits for the whole
 * group's rebalance; past this the supervisor removes the member instead.
 */
const LEAVE_WAIT_MS = 3000;
/** What a stop keeps of its deadline after the producer's close wait, for the steps after it. */
const CLOSE_MARGIN_MS = 500;

/**
 * Stops `session`, leaving its group unless `leave` is false: true once it
 * stopped, false when it still runs after `ms` (its member is then removed
 * by the supervisor). Rejects when the stop fails first.
 */
function stoppedWithin(session: ConsumerSession, ms: number, leave = true): Promise<boolean> {
  return Promise.race([
    session.stop({ leave }).then(() => true),
    sleep(ms).then(() => false),
  ]);
}

/**
 * `ordering: key` and `none`: how long before the stop deadline what
 * finished is committed while calls still run (a fifth of the time left, at
 * most 2 s).
 */
function keyedCommitMargin(remainingMs: number): number {
  return Math.min(2_000, remainingMs / 5);
}

/**
 * `ordering: key` and `none`: how long before the stop deadline the last
 * commit is made when calls still run after the first (a fifth of the time
 * left, at most 500 ms), so that calls ending in between count too.
 */
function lastCommitMargin(remainingMs: number): number {
  return Math.min(500, remainingMs / 5);
}

/**
 * Starts the loop described by a `start` message; progress goes out through
 * `post`. `collect` hands the start's memory back once idle (startup_memory.ts).
 */
export async function startWorkerLoop(
  start: StartMessage,
  post: (message: WorkerMessage) => void,
  { collect = null }: { collect?: Collect | null } = {},
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
  const watermarks = new Watermarks();
  const dirty = new Set<number>();
  /** The batches being handled, one per partition at most. */
  const runs = new Set<BatchRun>();
  const inflight = new Set<Promise<void>>();
  /** The assignment being read, and the one waiting for the supervisor's `positions`. */
  let current: Assignment = { generation: 0, partitions: [] };
  /** This worker's group member id, once the coordinator gave one (a join under way has one too). */
  let memberId: string | null = null;
  /** A stop came while connecting: whether the session it opened left its group in time. */
  let leftWhileConnecting: boolean | null = null;
  /** The partitions being read, each with the assignment generation it was begun in. */
  const begunIn = new Map<number, number>();
  let awaiting: Assignment | null = null;
  let session: ConsumerSession | null = null;
  /** Resolves with the session once connected (assignments can arrive while it connects). */
  let sessionReady!: (s: ConsumerSession) => void;
  const connected = new Promise<ConsumerSession>((resolve) => (sessionReady = resolve));
  const autoCommit = consumer.commit.mode === "auto";
  let lastCommitAt = Date.now();
  /** Partitions paused after a handler failure, with their resume timers. */
  const failed = new Map<number, ReturnType<typeof setTimeout>>();
  /** `ordering: key` and `none`: what they add to this loop (set once the handler loaded). */
  const parallel = consumer.ordering !== "partition";
  let keyed: KeyedWork | null = null;

  // The heartbeat comes from this thread's event loop (a busy loop stops
  // it), from the first moment: a slow import or setup() is not a hang.
  const heartbeat = setInterval(() => {
    const now = Date.now();
    let busyMs: number | null = null;
    for (const run of runs) {
      const ms = run.calls.busyMs(now);
      if (ms !== null && (busyMs === null || ms > busyMs)) busyMs = ms;
    }
    const dispatched = keyed?.dispatcher.busyMs(now) ?? null;
    if (dispatched !== null && (busyMs === null || dispatched > busyMs)) busyMs = dispatched;
    post({ v: 1, type: "heartbeat", busyMs });
  }, start.heartbeatIntervalMs);
  const report = setInterval(() => {
    refreshWatermarks();
    // stats: cumulative counters, when they changed.
    const snapshot = stats.take();
    if (snapshot !== null) post({ v: 1, type: "stats", stats: snapshot });
    if (keyed !== null) {
      const state = keyed.report();
      if (state !== null) post({ v: 1, type: "dispatch", state });
      // The oldest unfinished offset moves without a commit: report every partition held.
      for (const p of current.partitions) dirty.add(p);
    }
    if (dirty.size === 0) return;
    const partitions = [...dirty].map(progress);
    dirty.clear();
    post({ v: 1, type: "offsets", partitions });
  }, REPORT_INTERVAL_MS);
  /**
   * Asks the broker for the high watermarks of held partitions that no
   * fetch reported lately (paused, waiting behind a slow handler, idle), so
   * that their lag is the broker's.
   */
  let refreshing = false;
  const refreshWatermarks = () => {
    if (refreshing || session === null || abort.signal.aborted) return;
    const due = watermarks.due(current.partitions, Date.now());
    if (due.length === 0) return;
    refreshing = true;
    const asked = Date.now();
    session.describe(due).then((states) => {
      for (const { partition, highWatermark } of states) {
        if (!current.partitions.includes(partition)) continue;
        watermarks.set(partition, highWatermark, asked);
        dirty.add(partition);
      }
    }, (error) => log.debug("cannot read high watermarks; asking again later", errorFields(error)))
      .finally(() => (refreshing = false));
  };
  /**
   * Once the first assignment is read: messages handled so far, or -1 while
   * a handler call runs or the worker stops (startup_memory.ts waits for it
   * to stand still).
   */
  let cancelRelease: (() => void) | null = null;
  const handlerProgress = () =>
    abort.signal.aborted || runs.size > 0 || (keyed?.dispatcher.busyMs(0) ?? null) !== null
      ? -1
      : stats.processed;
  const stopTimers = () => {
    clearInterval(heartbeat);
    clearInterval(report);
    cancelRelease?.();
    keyed?.close();
  };

  const progress = (partition: number): PartitionProgress => ({
    partition,
    processed: tracker.processed(partition),
    committed: tracker.committed(partition),
    highWatermark: watermarks.get(partition),
    ...(parallel
      ? {
        oldestUnfinished: tracker.inFlight(partition) > 0 ? tracker.position(partition) : null,
      }
      : {}),
  });

  /** Errors already reported as fatal (one can reach here by several paths). */
  const reported = new WeakSet<object>();
  /** The worker cannot go on (the session failed for good): the supervisor restarts it. */
  const fatal = (error: unknown) => {
    if (typeof error === "object" && error !== null) {
      if (reported.has(error)) return;
      reported.add(error);
    }
    log.error("consumer crashed", errorFields(error));
    post({ v: 1, type: "error", error: toErrorData(error), fatal: true });
  };

  /** The commit under way: commits run one after the other, so none overtakes another. */
  let committing: Promise<void> = Promise.resolve();
  /** Commits every finished message of the partitions held now; rejects when the commit was not applied. */
  const commitFinished = (): Promise<void> => {
    const next = committing.catch(() => {}).then(async () => {
      // Nothing more is committed once a transaction failed (the worker stops).
      if (transactionFailure !== null) throw transactionFailure;
      for (const run of runs) run.flush();
      if (session === null) return;
      const active = session;
      const commit = (offsets: PartitionOffset[]) =>
        active.commit(offsets).catch((error) => {
          // Kafka refused it for good (authorization, a simple-mode group with members).
          if (error instanceof CommitRejectedError) fatal(error);
          throw error;
        });
      let pending: PartitionOffset[];
      if (keyed !== null) pending = await keyed.commitDue(current.partitions, commit);
      else {
        pending = tracker.pending().filter((o) => current.partitions.includes(o.partition));
        if (pending.length > 0) await commit(pending);
      }
      if (pending.length === 0) return;
      tracker.markCommitted(pending);
      for (const o of pending) dirty.add(o.partition);
      // A newer commit was reported before this one finished, so this one landed after it and
      // moved committed back: the session's own after a batch (it commits past transaction
      // markers, which end no handler call, so the tracker stops before them), or one kafkajs
      // sent while it tried this one again. Commit the newer offsets again.
      const newer = tracker.newerCommits(pending);
      if (newer.length > 0) await commit(newer);
    });
    committing = next;
    return next;
  };

  /**
   * The worker's one producer (outputs and dead letters): loaded and
   * connected on first use, or as the worker starts when its consumer has
   * outputs (at-least-once).
   */
  let producer: Promise<RecordProducer> | null = null;
  const producerOf = () =>
    producer ??= createRecordProducer(engineOf(consumer, start.kafka), start.kafka, {
      clientIdSuffix: `${consumer.name}-${start.replica}`,
      logger: log,
      settled: (record, failed) =>
        failed
          ? stats.produceError(record.topic) // stats
          : stats.produced(record.topic, recordBytes(record)), // stats
    });
  /** The producer once loaded: records then go to it without waiting a turn. */
  let loaded: RecordProducer | null = null;
  const send = (record: ProduceRecord & { timestamp?: string }): Promise<void> =>
    loaded === null ? producerOf().then((p) => (loaded = p).send(record)) : loaded.send(record);
  const outputs = new Outputs({
    topics: consumer.outputs,
    field: outputsField(consumer.name, start.source),
    send,
  });
  /**
   * `delivery: exactly-once`: what succeeded calls produced (and the
   * dead-letter copies) wait here for the commit whose transaction carries
   * them with their input offsets; the committer sends that transaction.
   */
  const buffered = consumer.delivery === "exactly-once" ? new TransactionBuffer() : null;
  let committer: TransactionalCommitter | null = null;
  /**
   * Set once a transaction failed: its outputs are gone with it, and only a
   * new run, from the committed offsets, is correct. Every later commit
   * rejects with it at once (the worker stops; it is reported once).
   */
  let transactionFailure: CommitRejectedError | null = null;
  const commitInTransaction = async (offsets: PartitionOffset[], member: GroupMember) => {
    if (transactionFailure !== null) throw transactionFailure;
    try {
      await committer!.commit(offsets, member);
    } catch (error) {
      transactionFailure = new CommitRejectedError(
        "a transaction of delivery: exactly-once failed; the worker restarts from the " +
          `last committed offsets: ${error instanceof Error ? error.message : String(error)}`,
        { cause: error },
      );
      throw transactionFailure;
    }
  };
  const ctx: Context = {
    consumer: consumer.name,
    group: consumer.group,
    topic: consumer.topic,
    settings: consumer.settings,
    log: log.child({ source: "handler" }),
    commit: commitFinished,
    ack: () => {},
    // setup() and teardown() produce outside any call; a call's own produce is tied to it.
    produce: (record) => outputs.produce(record),
    signal: abort.signal,
  };

  let module: HandlerModule;
  let handler: Handler;
  try {
    // The client library first, before any handler code runs; under the
    // start-up deadline (a library that compiles a lot at import blocks
    // this thread for a while when many workers start at once).
    await loadEngine(engineOf(consumer, start.kafka), consumer.mode);
  } catch (error) {
    stopTimers();
    throw error;
  }
  // What failed is said as such: loading the module, or its setup().
  let stage = "cannot load handler";
  try {
    module = await importHandlerModule(consumer.handler);
    handler = handlerOf(module, consumer.handler, consumer.ordering);
    if (consumer.outputs.length > 0) {
      handler = buffered === null
        ? producingHandler(handler, outputs)
        : transactionalHandler(handler, {
          outputs,
          buffer: buffered,
          // Handler calls run once connected, when the committer exists.
          check: (record) => committer === null ? null : committer.check(record),
          bound: consumer.commit.mode === "manual"
            ? { bytes: MAX_WAITING_BYTES, field: commitModeField(consumer.name, start.source) }
            : null,
        });
    }
    stage = "setup() failed in handler";
    await module.setup?.(ctx);
  } catch (error) {
    stopTimers();
    // stats: the consumer shows this as its `failed` reason, in the config's terms.
    throw new Error(
      `${stage} ${consumer.handler}${where(start.source?.handlerLine)}: ${
        explainHandlerError(error, start.source, consumer.handler) ??
          (error instanceof Error ? error.message : String(error))
      }`,
      { cause: error },
    );
  }
  post({ v: 1, type: "loaded" });
  if (consumer.outputs.length > 0 && buffered === null) {
    // Connected while the group is joined: the first call's produce does not wait for it.
    producerOf().then((p) => p.connect()).catch((error) =>
      log.warn("the producer could not connect yet; the first produce connects again", {
        ...errorFields(error),
      })
    );
  }

  // The producer is loaded only when used: a worker with neither outputs nor a dead-letter
  // topic never loads it.
  const deadLetters = consumer.deadLetterTopic === null
    ? null
    : buffered === null
    ? createDeadLetterSink({ send }, consumer.name)
    : {
      // Exactly-once: the copy goes in the transaction that commits its message, unless the
      // broker would refuse it there (then the partition pauses, as when a copy cannot be sent).
      send: async (topic: string, message: Message, error: unknown) => {
        const record = deadLetterRecord(topic, message, error, consumer.name);
        const refused = await committer?.check(record) ?? null;
        if (refused !== null) throw refused;
        buffered.add(message.partition, message.offset, [record]);
      },
    };

  /**
   * The handler gave up on `messages`: with a dead-letter topic, copy them
   * there and report them finished (returns true); without one, or if that
   * fails, the caller pauses the partition.
   */
  const deadLetter = async (messages: Message[], error: unknown): Promise<boolean> => {
    if (deadLetters === null || consumer.deadLetterTopic === null) return false;
    // A permission the handler lacks, or an output topic its consumer does not list, is the
    // config's fault, not the message's: every message would follow it into the dead-letter
    // topic. The partition pauses until the grant is added.
    if (permissionDenial(error) !== null || error instanceof OutputNotAllowedError) return false;
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

  /** Resumes a paused partition once its retry time came, again later if the client cannot now. */
  const resumeLater = (partition: number, delayMs: number) => {
    clearTimeout(failed.get(partition));
    failed.set(
      partition,
      setTimeout(() => {
        failed.delete(partition);
        if (abort.signal.aborted || !current.partitions.includes(partition)) return;
        try {
          session?.resume([partition]);
        } catch (error) {
          log.warn("cannot resume the partition yet; trying again", {
            partition,
            ...errorFields(error),
          });
          resumeLater(partition, RESUME_RETRY_MS);
        }
      }, delayMs),
    );
  };

  /** The handler gave up on `message`: pause its partition, report, try again later. Never skip it. */
  const failPartition = (message: Message, error: unknown) => {
    const { partition } = message;
    try {
      session?.pause([partition]);
    } catch (pauseError) {
      // The client is restarting: the partition is not read until it rejoins anyway.
      log.warn("cannot pause the partition", { partition, ...errorFields(pauseError) });
    }
    // In the config's terms when it is a permission denial or a missing package.
    const explained = explainHandlerError(error, start.source, consumer.handler);
    log.error("handler failed after retries; partition paused", {
      partition,
      offset: message.offset,
      retryInMs: consumer.retry.maxBackoffMs,
      ...errorFields(error),
      ...(explained === null ? {} : { explained }),
    });
    const data = toErrorData(error);
    post({
      v: 1,
      type: "error",
      error: explained === null ? data : { ...data, message: explained },
      fatal: false,
      partition,
      offset: message.offset,
    });
    resumeLater(partition, consumer.retry.maxBackoffMs);
  };

  if (parallel && handler.kind === "message") {
    keyed = new KeyedWork({
      consumer,
      handle: handler.fn,
      ctx,
      signal: abort.signal,
      log,
      tracker,
      keepaliveMs: KEEPALIVE_MS,
      turnEveryMs: TURN_EVERY_MS,
      deadLetter,
      onKeyPaused: (_message, error) =>
        post({ v: 1, type: "error", error: toErrorData(error), fatal: false }),
      stats, // stats
    });
    // Auto mode: the session commits nothing (its fetch positions pass messages still running).
    if (autoCommit) {
      keyed.commitEvery(() => {
        lastCommitAt = Date.now();
        commitFinished().catch((error) =>
          log.warn("commit on the interval failed; committing again later", errorFields(error))
        );
      }, () =>
        !abort.signal.aborted && transactionFailure === null &&
        Date.now() - lastCommitAt >= consumer.commit.intervalMs);
    }
  }

  const runOptions: BatchRunOptions = {
    handler,
    ctx,
    retry: consumer.retry,
    signal: abort.signal,
    log,
    tickMs: tickMs(consumer.commit),
    keepaliveMs: KEEPALIVE_MS,
    turns: new TurnPacer(TURN_EVERY_MS),
    onFinished: (partition, offset, generation) => {
      // A batch of a partition begun in an assignment that is over: its
      // progress starts again from what was committed.
      if (begunIn.get(partition) !== generation) return false;
      try {
        tracker.begin(partition, offset);
        tracker.finish(partition, offset);
        return true;
      } catch (error) {
        log.error("finished offset out of order; not handed over", {
          partition,
          offset,
          ...errorFields(error),
        });
        return false;
      }
    },
    onTick: async () => {
      const now = Date.now();
      if (!autoCommit || transactionFailure !== null) return;
      if (now - lastCommitAt < consumer.commit.intervalMs) return;
      lastCommitAt = now;
      await commitFinished().catch((error) =>
        log.warn("commit on the interval failed; committing again later", errorFields(error))
      );
    },
    deadLetter,
    failPartition,
    stats, // stats
  };

  const onBatch = async (batch: FetchedBatch) => {
    const { partition, size } = batch;
    watermarks.set(partition, batch.highWatermark, Date.now());
    dirty.add(partition);
    if (size === 0) return;
    if (
      tracker.committed(partition) === null && tracker.processed(partition) === null &&
      tracker.inFlight(partition) === 0
    ) {
      // Reset by the client after an out-of-range offset: restart the bookkeeping here.
      tracker.seed(partition, batch.at(0).offset);
    }
    if (keyed !== null) return await keyed.onBatch(batch);
    const run = new BatchRun(batch, runOptions);
    runs.add(run);
    const done = run.run();
    const settled = done.then(() => {}, () => {});
    inflight.add(settled);
    try {
      await done;
    } finally {
      runs.delete(run);
      inflight.delete(settled);
    }
  };

  /** Starts reading an assignment (all but its kept partitions) once its start positions are known. */
  const begin = async (
    assignment: Assignment,
    heldAtStart: number[],
    decided: DecidedReset[] = [],
  ) => {
    const kept = assignment.kept ?? [];
    // Decided once, committed by every attempt: see AssignmentStart. The supervisor keeps the
    // resets, so that the partition's next start reuses them should this one be abandoned.
    const start = new AssignmentStart(consumer, {
      generation: assignment.generation,
      partitions: assignment.partitions.filter((p) => !kept.includes(p)),
      heldAtStart,
      decided,
    }, {
      onDecided: (resets) => {
        if (resets.length > 0) {
          post({ v: 1, type: "decided", generation: assignment.generation, resets });
        }
      },
    });
    for (let attempt = 1; !abort.signal.aborted; attempt++) {
      try {
        const { starts, reading, resumed } = await start.run(await connected);
        if (reading) keyed?.started(assignment.generation, starts, resumed);
        // Committed, but the assignment moved on meanwhile: the resets are
        // done (the next holder resumes from them); nothing is read here.
        for (const s of starts) {
          if (reading) {
            tracker.seed(s.partition, s.offset);
            begunIn.set(s.partition, assignment.generation);
            dirty.add(s.partition);
          }
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
        if (!abort.signal.aborted) {
          cancelRelease ??= releaseStartupMemory(handlerProgress, { collect });
        }
        return;
      } catch (error) {
        if (error instanceof CommitRejectedError) {
          // Trying again cannot help: the supervisor restarts the worker, and
          // reports the consumer failing if that keeps happening.
          fatal(error);
          return;
        }
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
    const kept = new Set(assignment.kept ?? []);
    const revoked = current.partitions.filter((p) => !assignment.partitions.includes(p));
    watermarks.forget(revoked);
    // Every partition's position is decided again for the new assignment,
    // but for those kept: they go on where they are.
    const ended = current.partitions.filter((p) => !kept.has(p));
    keyed?.forget(ended);
    tracker.revoke(ended);
    // Not committed with their messages: those are read again from the committed offsets.
    buffered?.discard(ended);
    for (const p of ended) begunIn.delete(p);
    for (const [p, timer] of failed) {
      if (kept.has(p)) continue;
      clearTimeout(timer);
      failed.delete(p);
    }
    current = assignment;
    memberId = assignment.memberId || memberId;
    if (revoked.length > 0) post({ v: 1, type: "revoked", partitions: revoked });
    const ask = consumer.resetOffsetOnStart;
    awaiting = ask ? assignment : null;
    post({
      v: 1,
      type: "assigned",
      generation: assignment.generation,
      partitions: assignment.partitions,
      ...(assignment.memberId === undefined ? {} : { memberId: assignment.memberId }),
      awaitingPositions: ask,
    });
    if (!ask) void begin(assignment, []);
  };

  /**
   * `ordering: key` and `none`, before the session gives partitions back:
   * nothing more of them starts, what waits is dropped, the calls running
   * end; then what finished is committed (auto mode), under the generation
   * that still owns them.
   */
  const finishRevoked = async (partitions: number[]): Promise<void> => {
    await keyed?.dispatcher.revoke(partitions);
    // Stopping too: this is the last moment the commit counts (the stop's would come after the
    // rejoin, under a generation that may not own them).
    if (!autoCommit) return;
    await commitFinished().catch((error) =>
      log.warn(
        "commit before giving partitions back failed; what finished since the last commit is " +
          "handled again by their next owner",
        errorFields(error),
      )
    );
  };

  // Connection problems are logged in the config's terms, once, then slowly.
  const pace = new ProblemPace();
  const sessionLog = quietClientWarnings(log, () => session === null);
  const connect = async () => {
    for (let attempt = 1; !abort.signal.aborted; attempt++) {
      try {
        if (buffered !== null && committer === null) {
          // Before the session reads a committed offset: taking the slot's transactional id
          // over ends what a predecessor left open.
          const { simpleModeSlot, TransactionalCommitter, transactionalId } = await import(
            "../kafka/platformatic/transactions.ts"
          );
          committer = await TransactionalCommitter.create({
            kafka: start.kafka,
            clientIdSuffix: `${consumer.name}-${start.replica}`,
            transactionalId: transactionalId({
              group: consumer.group,
              consumer: consumer.name,
              replica: start.replica,
              // Simple mode: no generation fences a zombie; the id names the partitions read.
              daemon: consumer.mode === "simple"
                ? simpleModeSlot(consumer.partitions)
                : start.kafka.instanceId || daemonHost(),
            }),
            group: consumer.group,
            topic: consumer.topic,
            take: (offsets) => buffered.take(offsets),
            logger: sessionLog,
            // stats: a transaction's records are written when it commits, lost when it aborts.
            ended: ({ committed, records, ms }) => {
              stats.transaction(committed, ms);
              for (const record of records) {
                if (committed) stats.produced(record.topic, recordBytes(record));
                else stats.produceError(record.topic);
              }
            },
          });
        }
        const opened = await startSession(engineOf(consumer, start.kafka), consumer.mode, {
          kafka: start.kafka,
          clientIdSuffix: `${consumer.name}-${start.replica}`,
          group: consumer.group,
          topic: consumer.topic,
          groupProtocol: groupProtocolOf(consumer, start.kafka),
          instanceId: groupInstanceId(consumer, start.kafka, start.replica),
          partitions: consumer.partitions,
          autoOffsetReset: consumer.autoOffsetReset,
          // `ordering: key` and `none`: the session moves fetch positions past messages still
          // running; only the worker knows what may be committed.
          autoCommit: autoCommit && !parallel,
          commitIntervalMs: consumer.commit.intervalMs,
          fetch: consumer.fetch,
          // `ordering: key` and `none`: a batch is only queued, one at a time is enough.
          concurrency: parallel ? 1 : consumer.concurrency,
          maxHandlerMs: consumer.handlerTimeoutMs,
          logger: sessionLog,
          onBatch,
          onAssigned,
          ...(committer === null ? {} : { commitOffsets: commitInTransaction }),
          onRebalancing: () => {
            keyed?.dispatcher.wake();
            post({ v: 1, type: "rebalancing" });
          },
          ...(keyed === null ? {} : { onRevoking: finishRevoked }),
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
            // Outputs of messages below the new position belong to no commit now.
            buffered?.discard([partition]);
            // What was queued of it points below the new position: read afresh from there.
            keyed?.reset(partition, begunIn.get(partition) ?? current.generation);
            post({ v: 1, type: "reset", partition });
          },
          onFatal: fatal,
          onMembership: (membership) => {
            memberId = membership.memberId || memberId;
            post({ v: 1, type: "membership", ...membership });
          },
          onWaiting: (problem) => {
            if (problem === null) return;
            log.error(`${problem.message}; trying again`, errorFields(problem));
            post({ v: 1, type: "error", error: toErrorData(problem, true), fatal: false });
          },
        });
        if (abort.signal.aborted) {
          // Stopped while connecting: leave at once rather than linger in the group. A join
          // under way is waited for as long as a leave (see stop()); past that, the member is
          // removed.
          leftWhileConnecting = await stoppedWithin(opened, LEAVE_WAIT_MS).catch(() => true);
          return;
        }
        session = opened;
        sessionReady(opened);
        pace.clear();
        post({ v: 1, type: "ready" });
        return;
      } catch (error) {
        // Capped low: after a broker outage (or once a missing topic appears) the worker is back
        // within seconds; the log repeats only every minute.
        const delay = backoffDelay(attempt, { baseMs: 1000, maxMs: 8_000, jitter: 0.2 });
        const problem = describeKafkaError(error, {
          topic: consumer.topic,
          brokers: start.kafka.brokers,
          // Who signs in, with which mechanism; never the password.
          sasl: start.kafka.sasl && {
            mechanism: start.kafka.sasl.mechanism,
            username: start.kafka.sasl.username,
          },
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
  const connecting = connect();

  /** Waits for the batches in hand to end (their handler calls finish), or for `deadlineMs`. */
  const finishInflight = async (deadlineMs: number): Promise<boolean> => {
    const late = Symbol("late");
    const result = await Promise.race([
      Promise.all([...inflight, keyed?.dispatcher.revoke(current.partitions)]),
      sleep(Math.max(0, deadlineMs - Date.now())).then(() => late),
    ]);
    return result !== late;
  };

  return {
    positions(generation, resetOnStart, decided = []) {
      if (
        awaiting === null || awaiting.generation !== generation || generation !== current.generation
      ) {
        // Answer to an assignment that was replaced meanwhile: its resets were not done.
        post({ v: 1, type: "started", generation, started: [], abandoned: resetOnStart });
        return;
      }
      const assignment = awaiting;
      awaiting = null;
      void begin(assignment, resetOnStart, decided);
    },
    async stop(deadlineMs, { leave = true } = {}) {
      // No new message starts; a handler call in progress may finish (or
      // give up on ctx.signal: then its message stays unfinished).
      abort.abort();
      for (const timer of failed.values()) clearTimeout(timer);
      const remaining = () => Math.max(0, deadlineMs - Date.now());
      // Still connecting: connect() closes the session it was opening.
      if (session === null) {
        await Promise.race([connecting, sleep(remaining())]);
        stopTimers();
        return { evict: leftWhileConnecting === false ? memberId : null };
      }
      const active = session;
      try {
        active.pause(current.partitions);
      } catch {
        // The client is restarting: it fetches nothing anyway.
      }
      // The batches in hand end first, while the session still holds the
      // group: a `ctx.commit()` from a finishing handler is applied, then
      // auto mode commits everything finished. Then the group is left.
      const finalCommit = async () => {
        if (!autoCommit) return;
        await commitFinished().catch((error) =>
          log.warn(
            "final commit failed; what finished since the last commit is handled again",
            errorFields(error),
          )
        );
      };
      const drained = (async (): Promise<{ evict: string | null } | null> => {
        if (keyed === null) {
          if (!await finishInflight(deadlineMs)) return null;
        } else if (!await finishInflight(deadlineMs - keyedCommitMargin(remaining()))) {
          // `ordering: key` and `none`: a call still runs near the deadline. What finished is
          // committed all the same (the metadata lists it beyond the oldest unfinished message),
          // then the calls get the rest of the time.
          log.warn("handler calls still run near the shutdown deadline; committing what finished", {
            inFlight: keyed.dispatcher.inFlight,
          });
          await finalCommit();
          if (!await finishInflight(deadlineMs - lastCommitMargin(remaining()))) {
            // Still running: what finished since is committed once more, the rest is handled again.
            await finalCommit();
            if (!await finishInflight(deadlineMs)) return null;
          }
        }
        await finalCommit();
        const left = await stoppedWithin(active, Math.min(remaining(), LEAVE_WAIT_MS), leave);
        await module.teardown?.(ctx);
        // Records still on their way get a moment, within the deadline (what follows is quick).
        await (await producer)?.close(Math.min(CLOSE_FLUSH_MS, remaining() - CLOSE_MARGIN_MS));
        await committer?.close();
        if (left || memberId === null) return { evict: null };
        log.warn("leaving the group takes too long (it is rebalancing); the member is removed", {
          memberId,
        });
        return { evict: memberId };
      })();
      const outcome = await Promise.race([
        drained.then((done) => ({ done }), (error: unknown) => ({ error })),
        sleep(remaining()).then(() => ({ done: null })),
      ]);
      stopTimers();
      post({ v: 1, type: "stats", stats: stats.snapshot() }); // stats
      post({ v: 1, type: "offsets", partitions: current.partitions.map(progress) });
      if ("error" in outcome) throw outcome.error;
      if (outcome.done === null) throw new Error("the worker did not drain before its deadline");
      return outcome.done;
    },
  };
}

/** The host's name (the daemon's part of a transactional id when kafka.instanceId is unset). */
function daemonHost(): string {
  try {
    return hostname();
  } catch {
    return "localhost";
  }
}

/**
 * One consumer's run across its replicas: the start that its replicas
 * settle together ({@linkcode StartSettler}) and the counters its workers
 * report (resets by reason, dead letters, failed handler calls) that
 * `/status` and `/metrics` show.
 *
 * @module
 */
import type { ConsumerConfig } from "../config/types.ts";
import type { Logger } from "../log.ts";
import type { StartReason, WorkerMessage, WorkerStats } from "../protocol.ts";
import { type PositionsReply, StartSettler } from "./start_settler.ts";
import { emptyStats } from "./status.ts";

/** Options for {@linkcode ConsumerRun}. */
export interface ConsumerRunOptions {
  /** When the start begins, ms (monotonic). */
  now: number;
  /** Sends `positions` to the worker of the reply's replica, if it has one. */
  deliver: (reply: PositionsReply) => void;
  /** The group protocol moves a partition in two steps (the consumer protocol): see StartSettler. */
  movesInTwoSteps?: boolean;
  /** The clock the settler measures partitions' time away with (default: `performance.now()`). */
  clock?: () => number;
}

/**
 * A consumer's start across its replicas and its counters.
 *
 * @example
 * ```ts ignore
 * const run = new ConsumerRun(consumer, { now: performance.now(), deliver });
 * run.receive(0, message, logger);
 * ```
 */
export class ConsumerRun {
  consumer: ConsumerConfig;
  settler: StartSettler;
  /** When the settle window of the start opened (its last replica's first worker counts). */
  startedAt: number;
  ready = false;
  readonly resets: Record<StartReason, number> = {
    "committed": 0,
    "reset-on-start": 0,
    "no-committed-offset": 0,
    "out-of-range": 0,
  };
  deadLettered = 0;
  handlerErrors = 0;
  /** What workers drained by a scale-down had counted (counters never go backwards). */
  retired: WorkerStats = emptyStats();
  readonly #deliver: (reply: PositionsReply) => void;

  /** A fresh start: `resetOffsetOnStart` settles anew. */
  constructor(
    consumer: ConsumerConfig,
    { now, deliver, movesInTwoSteps = false, clock }: ConsumerRunOptions,
  ) {
    this.consumer = consumer;
    this.settler = new StartSettler({
      replicas: consumer.replicas,
      resetOnStart: consumer.resetOffsetOnStart,
      movesInTwoSteps,
      ...(clock === undefined ? {} : { now: clock }),
    });
    this.startedAt = now;
    this.#deliver = deliver;
  }

  /** Sends the settler's answers to their workers (only a consumer that resets on start waits for them). */
  send(replies: PositionsReply[]): void {
    if (!this.consumer.resetOffsetOnStart) return;
    for (const reply of replies) this.#deliver(reply);
  }

  /**
   * Takes in a message of the worker of `replica`: answers its assignment
   * and started partitions, counts resets, dead letters and failed calls,
   * and logs when the start is done.
   */
  receive(replica: number, message: WorkerMessage, log: Logger): void {
    switch (message.type) {
      case "assigned":
        this.send(this.settler.assigned(replica, message.generation, message.partitions));
        break;
      case "decided":
        this.settler.decided(replica, message.generation, message.resets);
        return;
      case "started":
        for (const s of message.started) this.resets[s.reason]++;
        this.send(
          this.settler.started(
            replica,
            message.generation,
            message.started.map((s) => s.partition),
            message.abandoned,
          ),
        );
        break;
      case "rebalancing":
        this.settler.joining(replica);
        return;
      case "deadLettered":
        this.deadLettered += message.count;
        this.handlerErrors += message.count;
        return;
      case "error":
        if (!message.fatal && !message.error.retriable) this.handlerErrors++;
        return;
      case "reset":
        this.resets["out-of-range"]++;
        log.warn("offset out of range; partition moved to autoOffsetReset", {
          partition: message.partition,
        });
        break;
      default:
        return;
    }
    this.#settling(log);
  }

  /** Settles the start now, with the replicas that have an assignment. */
  forceSettle(log: Logger): void {
    this.send(this.settler.forceSettle());
    this.#settling(log);
  }

  /**
   * Gives up on partitions on their way between replicas that reached none
   * within `waitMs` (see {@linkcode StartSettler.expireMoves}).
   */
  expireMoves(waitMs: number, log: Logger): void {
    const settled = this.settler.settled;
    this.send(this.settler.expireMoves(waitMs));
    if (!settled && this.settler.settled) {
      log.info(
        "a partition a replica gave up did not reach another replica; settling the start " +
          "without it (it went to another member of the group)",
        { moveWaitMs: waitMs },
      );
    }
    this.#settling(log);
  }

  /** Logs the resets the settler dropped, and the start once it is done. */
  #settling(log: Logger): void {
    const dropped = this.settler.takeDropped();
    if (dropped.length > 0) {
      log.info("reset on start dropped: the partitions left this daemon before their reset", {
        partitions: dropped,
      });
    }
    if (!this.ready && this.settler.ready) {
      this.ready = true;
      log.info("consumer started", {
        heldAtStart: this.settler.heldAtStart,
        resetOnStart: this.consumer.resetOffsetOnStart ? this.settler.heldAtStart : [],
        ms: Math.round(performance.now() - this.startedAt),
      });
    }
  }

  /**
   * Takes `consumer`, whose `replicas` alone changed, on a start that is
   * already settled: the resets it still owes go on, partitions that reach
   * the new replicas through the rebalance start from committed offsets (a
   * scale is not a start). See {@linkcode StartSettler.rescale}.
   */
  rescale(consumer: ConsumerConfig, log: Logger): void {
    this.consumer = consumer;
    this.send(this.settler.rescale(consumer.replicas));
    this.#settling(log);
  }
}

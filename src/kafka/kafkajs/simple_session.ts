/**
 * Simple mode: reads fixed partitions of a topic without joining the
 * consumer group (no membership, no rebalances), and commits offsets under
 * the group as a standalone consumer, so Kafka's own tools show them.
 *
 * kafkajs has no public manual assignment, so the session runs its own fetch
 * loop on kafkajs's internal protocol layer ({@linkcode TopicClient}): one
 * loop for all partitions, one Fetch per leader broker per round, batches
 * handed to `onBatch` one partition after the other, and a partition fetched
 * again only once its batch returned, from the offset after the last one
 * resolved. The session alone owns each partition's position. Commits carry
 * generation -1 and no member id, which Kafka accepts only while no member
 * (e.g. a balanced consumer) is in the group.
 *
 * @module
 */
import { errorFields, type Logger } from "../../log.ts";
import { backoffDelay } from "../../backoff.ts";
import { toMessage } from "./to_message.ts";
import { checkOffsets, isOffset } from "../offset_checks.ts";
import { BackgroundCommits } from "../background_commit.ts";
import { type OutOfRangeSession, resetOutOfRange, roundFailure } from "../out_of_range.ts";
import {
  advanceCursor,
  type FetchCursor,
  markCommitted,
  newCursors,
  readPositions,
  readyCursors,
  uncommittedPositions,
} from "../fetch_cursor.ts";
import type {
  ConsumerSession,
  FetchedBatch,
  PartitionOffset,
  PartitionState,
  SessionOptions,
} from "../session.ts";
import {
  errorType,
  isRetriable,
  outOfRangePartition,
  type PartitionRecords,
  TopicClient,
} from "./topic_client.ts";

/** Simple mode has one assignment for the session's whole life. */
const GENERATION = 1;
/** Failed fetch rounds in a row before the session gives up (about three minutes of backoff). */
const FETCH_ATTEMPTS = 12;
const BACKOFF = { baseMs: 300, maxMs: 30_000, jitter: 0.2 } as const;
/** How long the loop idles when no partition can be fetched, unless woken. */
const IDLE_MS = 1_000;

/**
 * Connects and reads the topic's metadata; the partitions (`options.partitions`,
 * or all of the topic's) are announced through `onAssigned` as generation 1
 * right after this resolves, and nothing is read from one before `begin()`.
 *
 * @throws {Error} If the brokers cannot be reached or the topic does not exist.
 * @throws {RangeError} If a configured partition does not exist.
 *
 * @example
 * ```ts ignore
 * const session = await startSimpleSession({ ...options, partitions: [0, 2] });
 * // onAssigned({ generation: 1, partitions: [0, 2] }) follows; then:
 * const states = await session.describe([0, 2]);
 * await session.begin(1, states.map((s) => ({ partition: s.partition, offset: s.committed ?? s.logStartOffset })));
 * ```
 */
export async function startSimpleSession(options: SessionOptions): Promise<ConsumerSession> {
  checkPartitionList(options.partitions, "partitions");
  const { topic, group, logger } = options;
  const client = await TopicClient.connect({
    kafka: options.kafka,
    clientIdSuffix: options.clientIdSuffix,
    topic,
    logger,
  });
  let partitions: number[];
  try {
    const existing = client.partitions();
    partitions = options.partitions === null
      ? existing
      : [...options.partitions].sort((a, b) => a - b);
    const missing = partitions.filter((p) => !existing.includes(p));
    if (missing.length > 0) {
      throw new RangeError(
        `Cannot read partition ${
          missing.join(", ")
        } of topic "${topic}": it does not exist; the topic has partitions ${existing.join(", ")}`,
      );
    }
  } catch (error) {
    await client.disconnect().catch(() => {});
    throw error;
  }
  logger.info("simple session connected", { topic, group, partitions });
  return new SimpleSession(client, options, partitions);
}

class SimpleSession implements ConsumerSession {
  #client: TopicClient;
  #options: SessionOptions;
  #log: Logger;
  #cursors: Map<number, FetchCursor>;
  #running = true;
  #stopped: Promise<void> | null = null;
  /** Set once the connections are closing: nothing may be sent any more. */
  #closed = false;
  #loop: Promise<void>;
  #wake: (() => void) | null = null;
  #announce: ReturnType<typeof setTimeout>;
  /** Commits run one after the other, so that a later commit never lands before an earlier one. */
  #commits: Promise<unknown> = Promise.resolve();
  /** Auto commits after each batch, in the background. */
  #autoCommits: BackgroundCommits;

  constructor(client: TopicClient, options: SessionOptions, partitions: number[]) {
    this.#client = client;
    this.#options = options;
    this.#log = options.logger;
    this.#cursors = newCursors(partitions);
    this.#autoCommits = new BackgroundCommits({
      commit: () => this.#commitResolved(),
      enabled: () => this.#options.autoCommit && this.#running,
      onError: (error) => this.#autoCommitFailed(error),
      retryMs: options.commitIntervalMs,
    });
    // Right after startSimpleSession() resolved, so that the caller holds the session.
    this.#announce = setTimeout(() => {
      if (this.#running) options.onAssigned({ generation: GENERATION, partitions });
    }, 0);
    this.#loop = this.#run();
  }

  async describe(partitions: number[]): Promise<PartitionState[]> {
    checkPartitionList(partitions, "partitions");
    const [committed, low, high] = await Promise.all([
      this.#client.committed(this.#options.group, partitions),
      this.#client.listOffsets(partitions, "earliest"),
      this.#client.listOffsets(partitions, "latest"),
    ]);
    return partitions.map((partition) => ({
      partition,
      committed: committed.get(partition)?.offset ?? null,
      metadata: committed.get(partition)?.metadata ?? null,
      logStartOffset: low.get(partition)!,
      highWatermark: high.get(partition)!,
    }));
  }

  async begin(generation: number, positions: PartitionOffset[]): Promise<boolean> {
    if (generation !== GENERATION) {
      throw new RangeError(
        `Cannot begin reading as 'generation' must be ${GENERATION} in simple mode: current value is ${generation}`,
      );
    }
    this.#checkOffsets(positions, "positions");
    if (!this.#running) throw new Error("Cannot begin reading: the session has stopped");
    for (const { partition } of positions) {
      const position = this.#cursors.get(partition)!.position;
      if (position !== null) {
        throw new Error(
          `Cannot begin reading partition ${partition} again: it is being read, next at offset ${position}`,
        );
      }
    }
    if (positions.length === 0) return true;
    await this.#commit(positions);
    for (const { partition, offset } of positions) {
      const cursor = this.#cursors.get(partition)!;
      cursor.position = offset;
      cursor.epoch++;
    }
    this.#log.info("reading partitions", { positions });
    this.#wake?.();
    return true;
  }

  async commit(offsets: PartitionOffset[]): Promise<void> {
    this.#checkOffsets(offsets, "offsets");
    await this.#commit(offsets);
  }

  pause(partitions: number[]): void {
    for (const partition of partitions) {
      const cursor = this.#cursors.get(partition);
      if (!cursor || cursor.paused) continue;
      cursor.paused = true;
      cursor.epoch++;
      this.#log.debug("partition paused", { partition, position: cursor.position });
    }
  }

  resume(partitions: number[]): void {
    for (const partition of partitions) {
      const cursor = this.#cursors.get(partition);
      if (!cursor || !cursor.paused) continue;
      cursor.paused = false;
      cursor.epoch++;
      this.#log.debug("partition resumed", { partition, position: cursor.position });
    }
    this.#wake?.();
  }

  stop(): Promise<void> {
    this.#stopped ??= this.#stop();
    return this.#stopped;
  }

  async #stop(): Promise<void> {
    this.#running = false;
    clearTimeout(this.#announce);
    this.#wake?.();
    await this.#loop;
    let failure: unknown = null;
    if (this.#options.autoCommit) {
      await this.#commitResolved().catch((error) => {
        this.#log.error("final commit failed", errorFields(error));
        failure = error;
      });
    }
    await this.#autoCommits.idle();
    this.#autoCommits.stop();
    await this.#commits.catch(() => {});
    this.#closed = true;
    await this.#client.disconnect();
    this.#log.info("simple session stopped", { positions: this.#positions() });
    if (failure !== null) throw failure;
  }

  /** The fetch loop: runs until stop() or a non-retriable error. */
  async #run(): Promise<void> {
    let failures = 0;
    while (this.#running) {
      const ready = readyCursors(this.#cursors.values());
      if (ready.length === 0) {
        await this.#idle(IDLE_MS);
        continue;
      }
      try {
        await this.#round(ready);
        failures = 0;
      } catch (error) {
        if (this.#running) await this.#recover(error, ++failures);
      }
    }
  }

  /** After a failed round: reloads the metadata and backs off after a retriable error, or gives up. */
  async #recover(failure: unknown, attempt: number): Promise<void> {
    if (isRetriable(failure) && attempt < FETCH_ATTEMPTS) {
      const delayMs = Math.round(backoffDelay(attempt, BACKOFF));
      this.#log.warn("fetch failed; reloading metadata and retrying", {
        attempt,
        delayMs,
        kafkaError: errorType(failure),
        ...errorFields(failure),
      });
      await this.#client.recover(failure);
      await this.#idle(delayMs);
      return;
    }
    this.#log.error("fetch loop stopped", {
      attempts: attempt,
      retriable: isRetriable(failure),
      kafkaError: errorType(failure),
      ...errorFields(failure),
    });
    this.#running = false;
    this.#options.onFatal(failure);
  }

  /** One Fetch per leader, then each partition's records to `onBatch`, in turn. */
  async #round(ready: FetchCursor[]): Promise<void> {
    const leaders = await this.#client.leaders(ready.map((c) => c.partition));
    const asked = new Map(ready.map((c) => [c.partition, c.epoch]));
    const results = await Promise.allSettled(
      [...leaders].map(([nodeId, partitions]) =>
        this.#client.fetch(
          nodeId,
          partitions.map((partition) => ({
            partition,
            fetchOffset: this.#cursors.get(partition)!.position!,
          })),
          this.#options.fetch,
        )
      ),
    );
    const fetched = results.flatMap((r) => r.status === "fulfilled" ? r.value : []);
    // Each partition appears once in a round: up to `concurrency` of them are handled at once.
    let next = 0;
    const lane = async () => {
      while (next < fetched.length) {
        const records = fetched[next++]!;
        const cursor = this.#cursors.get(records.partition);
        // Paused, resumed or moved while fetching: fetch again from where it stands now.
        if (
          !this.#running || !cursor || cursor.paused || cursor.epoch !== asked.get(cursor.partition)
        ) {
          continue;
        }
        await this.#deliver(cursor, records);
      }
    };
    const lanes = Math.max(1, Math.min(this.#options.concurrency, fetched.length));
    // Every lane ends before the round does, even when one fails.
    const ended = await Promise.allSettled(Array.from({ length: lanes }, lane));
    const laneFailure = ended.find((r) => r.status === "rejected");
    if (laneFailure) throw laneFailure.reason;
    // A fetch that failed for a partition out of range names it: that partition moves to
    // autoOffsetReset. Any other failure of the round is still reported.
    const topic = this.#client.topic;
    const failures = results.flatMap((r) => r.status === "rejected" ? [r.reason] : []);
    for (const error of failures) {
      const partition = outOfRangePartition(error, topic);
      if (partition !== null) await this.#resetOutOfRange(partition);
    }
    const failure = roundFailure(failures, (error) => outOfRangePartition(error, topic) !== null);
    if (failure !== null) throw failure;
  }

  async #deliver(cursor: FetchCursor, records: PartitionRecords): Promise<void> {
    const { partition } = cursor;
    if (records.messages.length === 0) {
      // Only control records or aborted transactions: move past them.
      if (records.emptyDueToFiltering) {
        advanceCursor(cursor, records.lastOffset);
        this.#autoCommits.request();
      }
      return;
    }
    const epoch = cursor.epoch;
    const raw = records.messages;
    const topic = this.#client.topic;
    const first = BigInt(raw[0]!.offset);
    const last = raw[raw.length - 1]!.offset;
    const batch: FetchedBatch = {
      partition,
      generation: GENERATION,
      highWatermark: records.highWatermark,
      size: raw.length,
      at: (i) => toMessage(topic, partition, raw[i]!),
      resolve: (offset) => {
        if (!isOffset(offset) || BigInt(offset) < first || BigInt(offset) > BigInt(last)) {
          throw new RangeError(
            `Cannot resolve offset ${offset} of partition ${partition}: the batch holds ${first} to ${last}`,
          );
        }
        // Resolving the last record also passes the control records after it, as kafkajs does.
        advanceCursor(cursor, offset === last ? records.lastOffset : offset);
      },
      active: () => this.#running && !cursor.paused && cursor.epoch === epoch,
      heartbeat: () => Promise.resolve(),
    };
    await this.#options.onBatch(batch);
    this.#autoCommits.request();
  }

  /** Moves an out-of-range partition to autoOffsetReset and commits it there at once. */
  async #resetOutOfRange(partition: number): Promise<void> {
    const cursor = this.#cursors.get(partition);
    if (!cursor || cursor.position === null) return;
    await resetOutOfRange(cursor, this.#outOfRangeSession());
  }

  /**
   * A retriable failure is committed again (see {@linkcode BackgroundCommits});
   * any other (a commit Kafka refused for good among them) stops the session.
   */
  #autoCommitFailed(error: unknown): boolean {
    if (isRetriable(error)) {
      this.#log.warn("auto commit failed; committing again", {
        retryInMs: this.#options.commitIntervalMs,
        kafkaError: errorType(error),
        ...errorFields(error),
      });
      return true;
    }
    if (!this.#running) return false;
    this.#log.error("auto commit failed; stopping", {
      kafkaError: errorType(error),
      ...errorFields(error),
    });
    this.#running = false;
    this.#wake?.();
    this.#options.onFatal(error);
    return false;
  }

  /** What the shared out-of-range reset needs from this session. */
  #outOfRangeSession(): OutOfRangeSession {
    return {
      autoOffsetReset: this.#options.autoOffsetReset,
      listOffsets: (partitions, at) => this.#client.listOffsets(partitions, at),
      commit: (offsets) => this.#commit(offsets),
      current: (cursor) => this.#cursors.get(cursor.partition) === cursor,
      log: this.#log,
      onOutOfRange: (partition) => this.#options.onOutOfRange(partition),
    };
  }

  /** Commits every position that moved since it was last committed. */
  async #commitResolved(): Promise<void> {
    await this.#commit(uncommittedPositions(this.#cursors.values()));
  }

  /** Commits `offsets` after every commit already under way, then reports them. */
  #commit(offsets: PartitionOffset[]): Promise<void> {
    if (this.#closed) return Promise.reject(new Error("Cannot commit: the session is stopped"));
    if (offsets.length === 0) return Promise.resolve();
    const done = this.#commits.catch(() => {}).then(async () => {
      await this.#client.commit(this.#options.group, offsets);
      markCommitted(this.#cursors, offsets);
      this.#log.debug("committed offsets", { offsets });
      this.#options.onCommitted(offsets);
    });
    this.#commits = done;
    return done;
  }

  /** Waits `ms`, or less if begin(), resume() or stop() wakes the loop. */
  #idle(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      this.#wake = done;
      function done() {
        clearTimeout(timer);
        resolve();
      }
    });
  }

  #positions(): PartitionOffset[] {
    return readPositions(this.#cursors.values());
  }

  #checkOffsets(offsets: PartitionOffset[], name: string): void {
    checkOffsets(offsets, this.#cursors, name);
  }
}

function checkPartitionList(partitions: number[] | null, name: string): void {
  if (partitions === null) return;
  for (const p of partitions) {
    if (!Number.isInteger(p) || p < 0) {
      throw new RangeError(
        `Cannot use '${name}' as every partition must be a non-negative integer: current value is ${p}`,
      );
    }
  }
  if (new Set(partitions).size !== partitions.length) {
    throw new RangeError(
      `Cannot use '${name}' as it lists a partition twice: current value is [${
        partitions.join(", ")
      }]`,
    );
  }
}

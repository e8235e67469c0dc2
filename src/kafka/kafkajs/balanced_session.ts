/**
 * Balanced mode: group membership through kafkajs's consumer.
 *
 * Every new assignment is paused synchronously inside kafkajs's GROUP_JOIN
 * event (before kafkajs fetches anything for it), and stays paused until the
 * worker decided each partition's start position and `begin()` committed it.
 * `begin()` then seeks kafkajs to that position, and the first batch of each
 * partition is checked to start exactly there.
 *
 * @module
 */
import type { Admin, EachBatchPayload } from "kafkajs";
import { createKafka } from "./client.ts";
import { toMessage } from "./to_message.ts";
import { consumerWithAdmin } from "./shared_cluster.ts";
import { CommitRejectedError, commitRejection } from "../commit_rejected.ts";
import { BackgroundCommits } from "../background_commit.ts";
import { errorFields } from "../../log.ts";
import { committedMetadata, committedOffset } from "../offset_checks.ts";
import {
  type ConsumerSession,
  type PartitionOffset,
  type PartitionState,
  type SessionOptions,
  StaleAssignmentError,
  tagHeartbeatFailure,
} from "../session.ts";
import { groupTiming } from "../group_timing.ts";

/** How often the member heartbeats while the revoke hook waits (kafkajs does not then). */
const REVOKE_HEARTBEAT_MS = 3_000;
/** Heartbeat errors that mean this member left the group's current generation. */
const MEMBER_GONE = new Set(["UNKNOWN_MEMBER_ID", "ILLEGAL_GENERATION", "FENCED_INSTANCE_ID"]);
/** Heartbeat errors that mean the group is rebalancing (or its coordinator moved). */
const REBALANCING = new Set([
  "REBALANCE_IN_PROGRESS",
  "NOT_COORDINATOR_FOR_GROUP",
  "NOT_COORDINATOR",
]);

/** The protocol error types (e.g. "GROUP_AUTHORIZATION_FAILED") of a kafkajs error and its cause. */
function kafkajsErrorTypes(error: unknown): string[] {
  const types: string[] = [];
  for (
    let e: unknown = error;
    typeof e === "object" && e !== null;
    e = (e as { cause?: unknown }).cause
  ) {
    const type = (e as { type?: unknown }).type;
    if (typeof type === "string") types.push(type);
  }
  return types;
}

/** Reads committed offsets and watermarks with an admin client. */
export async function describePartitions(
  admin: Admin,
  group: string,
  topic: string,
  partitions: number[],
): Promise<PartitionState[]> {
  const [committed, watermarks] = await Promise.all([
    admin.fetchOffsets({ groupId: group, topics: [topic] }),
    admin.fetchTopicOffsets(topic),
  ]);
  const byPartition = new Map(
    (committed[0]?.partitions ?? []).map((p) => [p.partition, p]),
  );
  const marks = new Map(watermarks.map((w) => [w.partition, w]));
  return partitions.map((partition) => {
    const w = marks.get(partition);
    if (!w) throw new Error(`Partition ${partition} of topic ${topic} does not exist`);
    const commit = byPartition.get(partition);
    return {
      partition,
      committed: commit === undefined ? null : committedOffset(commit.offset),
      metadata: committedMetadata(commit?.metadata),
      logStartOffset: w.low,
      highWatermark: w.high,
    };
  });
}

/** Connects, joins the group and starts the kafkajs consumer (every partition paused until `begin()`). */
export async function startBalancedSession(options: SessionOptions): Promise<ConsumerSession> {
  const { topic, logger } = options;
  const kafka = createKafka(options.kafka, {
    clientIdSuffix: options.clientIdSuffix,
    logger,
    onLog: (message, fields) => {
      // kafkajs recovers from OFFSET_OUT_OF_RANGE by committing autoOffsetReset's position.
      if (
        message.startsWith("Offset out of range, resetting to default offset") &&
        fields.topic === topic
      ) {
        // kafkajs commits a placeholder (-1 or -2) there, then reads from the
        // position it stands for: the first batch commits the real offset.
        outOfRange.add(Number(fields.partition));
        // The start position is gone too: do not seek back to it.
        expectedStart.delete(Number(fields.partition));
        options.onOutOfRange(Number(fields.partition));
      }
    },
  });
  // The admin client describes partitions over the consumer's own connections; every JoinGroup
  // waits for the worker to finish the partitions it gives back (see revoke()).
  const timing = groupTiming(options.kafka, options.maxHandlerMs);
  const { consumer, admin } = consumerWithAdmin(kafka, {
    groupId: options.group,
    sessionTimeout: timing.sessionTimeoutMs,
    rebalanceTimeout: timing.rebalanceTimeoutMs,
    heartbeatInterval: timing.heartbeatIntervalMs,
    maxWaitTimeInMs: options.fetch.maxWaitMs,
    maxBytesPerPartition: options.fetch.maxBytesPerPartition,
    maxBytes: options.fetch.maxBytes,
    retry: { initialRetryTime: 300, maxRetryTime: 5_000, retries: 5 },
  }, {
    beforeJoin: () => {
      // A join kafkajs would begin after the stop (a restart of its own) is not begun: nothing
      // would leave the group with it.
      if (stopped) return Promise.reject(new Error("the session is stopping: no join"));
      if (joinUnderWay === null) {
        let ended!: () => void;
        joinUnderWay = { done: new Promise<void>((r) => ended = r), ended };
      }
      return revoke();
    },
    onJoining: (memberId) => {
      if (memberId === joiningAs) return;
      joiningAs = memberId;
      options.onMembership?.({ memberId, generation: null });
    },
  });
  /** Partitions whose committed offset kafkajs replaced with a placeholder after an out-of-range. */
  const outOfRange = new Set<number>();
  let generation = 0;
  /** The member id the last join went on with (reported before kafkajs reports the join). */
  let joiningAs = "";
  /** A join kafkajs began (its first, or one after a restart or a rebalance) until it ends. */
  let joinUnderWay: { done: Promise<void>; ended: () => void } | null = null;
  const joinEnded = () => {
    joinUnderWay?.ended();
    joinUnderWay = null;
  };
  let assigned = new Set<number>();
  /** The group is rebalancing: no new handler call starts until the next join. */
  let rebalancing = false;
  /** The next offset to read of each partition resolved in this generation (auto commits catch up to it). */
  const resolved = new Map<number, string>();
  let stopped = false;
  /** kafkajs's heartbeat for this member (any batch's): the revoke hook keeps the membership with it. */
  let heartbeat: (() => Promise<void>) | null = null;
  /** Auto mode: commits what kafkajs's own commit after a batch left behind (it failed), after the commit interval. */
  const catchUp = new BackgroundCommits({
    commit: () => commitChecked(behind()),
    enabled: () => options.autoCommit && !stopped && !rebalancing,
    onError: (error) => {
      if (error instanceof CommitRejectedError) {
        logger.error("auto commit refused; stopping", errorFields(error));
        options.onFatal(error);
        return false;
      }
      logger.warn("auto commit failed; committing again", {
        retryInMs: options.commitIntervalMs,
        ...errorFields(error),
      });
      return true;
    },
    retryMs: options.commitIntervalMs,
  });
  /** Partitions begun in this generation: only their batches are handed over. */
  const readable = new Set<number>();
  /** Where each partition must start: the first batch is checked against it. */
  const expectedStart = new Map<number, string>();
  /** The last commit event of each partition, numbered, so that a commit can confirm itself. */
  const committedNow = new Map<number, { offset: string; seq: number }>();
  let commitSeq = 0;
  /**
   * True when the last commit event of every partition came after `since`
   * and holds its offset (`exact`), or one at least as far (progress).
   */
  const confirmed = (offsets: PartitionOffset[], since: number, exact: boolean) =>
    offsets.every((o) => {
      const c = committedNow.get(o.partition);
      if (c === undefined || c.seq <= since) return false;
      return exact ? c.offset === o.offset : BigInt(c.offset) >= BigInt(o.offset);
    });

  consumer.on(consumer.events.GROUP_JOIN, (event) => {
    joinEnded();
    // Synchronous inside kafkajs's join: nothing of this generation was fetched yet.
    try {
      consumer.pause([{ topic }]);
    } catch (error) {
      // kafkajs throws once its stop let go of the group: nothing is fetched any more.
      if (!stopped) throw error;
    }
    // A join that ends while stopping is left at once: nothing is handed to the worker.
    if (stopped) return;
    generation++;
    rebalancing = false;
    readable.clear();
    assigned = new Set(event.payload.memberAssignment[topic] ?? []);
    expectedStart.clear();
    resolved.clear();
    options.onAssigned({
      generation,
      partitions: [...assigned].sort((a, b) => a - b),
      memberId: event.payload.memberId,
    });
  });
  consumer.on(consumer.events.COMMIT_OFFSETS, (event) => {
    const offsets = event.payload.topics
      .filter((t) => t.topic === topic)
      // kafkajs passes on what the committer gave it: strings, numbers or Longs.
      .flatMap((t) =>
        t.partitions.map((p) => ({ partition: Number(p.partition), offset: String(p.offset) }))
      );
    commitSeq++;
    for (const o of offsets) committedNow.set(o.partition, { offset: o.offset, seq: commitSeq });
    if (offsets.length > 0) options.onCommitted(offsets);
  });
  consumer.on(consumer.events.REBALANCING, () => {
    rebalancing = true;
    options.onRebalancing?.();
  });
  consumer.on(consumer.events.START_BATCH_PROCESS, (event) => {
    const { topic: batchTopic, partition, batchSize, lastOffset } = event.payload;
    // Only control records or aborted transactions follow the start position:
    // kafkajs moves past them without calling eachBatch, so the first batch
    // handed over starts later, legitimately.
    const expected = expectedStart.get(partition);
    if (batchTopic !== topic || batchSize !== 0 || expected === undefined) return;
    const next = BigInt(lastOffset) + 1n;
    if (next > BigInt(expected)) expectedStart.set(partition, String(next));
  });
  consumer.on(consumer.events.CRASH, (event) => {
    joinEnded();
    // Once stopping, a join cut short by the disconnect is part of the stop, not a failure.
    if (stopped) {
      logger.debug("kafkajs consumer ended while stopping", errorFields(event.payload.error));
      // kafkajs sets its restart timer right after this event; its stop() clears it.
      if (event.payload.restart) queueMicrotask(() => void consumer.stop().catch(() => {}));
      return;
    }
    if (!event.payload.restart) options.onFatal(event.payload.error);
  });

  await consumer.connect();
  await consumer.subscribe({
    topics: [topic],
    fromBeginning: options.autoOffsetReset === "earliest",
  });
  // Not awaited: run() resolves only once the group join completes, which can
  // take a session timeout when a dead member is still registered. A stop in
  // the meantime waits for it (see stop()). Join failures arrive through the
  // CRASH event.
  const running = consumer.run({
    autoCommit: options.autoCommit,
    partitionsConsumedConcurrently: options.concurrency,
    eachBatchAutoResolve: false,
    eachBatch: async (payload: EachBatchPayload) => {
      const { batch } = payload;
      heartbeat = payload.heartbeat; // the runner's: a restarted consumer has a new one
      // Fetched before this generation's join, or not begun yet: not ours to handle now.
      if (!readable.has(batch.partition)) return;
      const batchGeneration = generation;
      const expected = expectedStart.get(batch.partition);
      if (expected !== undefined) {
        // kafkajs's Batch records the offset it fetched from (untyped in its .d.ts).
        const fetched = String((batch as unknown as { fetchedOffset: string }).fetchedOffset);
        if (fetched !== expected) {
          logger.warn("first fetch did not start at the start position; seeking again", {
            partition: batch.partition,
            fetched,
            expected,
          });
          consumer.seek({ topic, partition: batch.partition, offset: expected });
          return;
        }
        expectedStart.delete(batch.partition);
      }
      if (outOfRange.delete(batch.partition)) {
        const fetched = String((batch as unknown as { fetchedOffset: string }).fetchedOffset);
        await commitConfirmed([{ partition: batch.partition, offset: fetched }], null);
      }
      await options.onBatch({
        partition: batch.partition,
        generation: batchGeneration,
        highWatermark: batch.highWatermark,
        size: batch.messages.length,
        at: (i) => toMessage(topic, batch.partition, batch.messages[i]!),
        resolve: (offset) => {
          payload.resolveOffset(offset);
          if (batchGeneration === generation) {
            resolved.set(batch.partition, String(BigInt(offset) + 1n));
          }
        },
        active: () =>
          batchGeneration === generation && !rebalancing && payload.isRunning() &&
          !payload.isStale(),
        heartbeat: async () => {
          try {
            await payload.heartbeat();
          } catch (error) {
            const type = (error as { type?: string }).type ?? "";
            if (MEMBER_GONE.has(type)) {
              rebalancing = true;
              throw tagHeartbeatFailure(error, "gone");
            }
            if (REBALANCING.has(type)) {
              rebalancing = true;
              throw tagHeartbeatFailure(error, "rebalance");
            }
            throw tagHeartbeatFailure(error, "transient");
          }
        },
      });
      // kafkajs commits what was resolved once this returns; should that fail, it does not try
      // again until the next batch: catch up after the commit interval.
      catchUp.requestLater();
    },
  });
  /** Settles once kafkajs's first join ended, either way. */
  const joined = running.then(() => {}, (error) => {
    if (!stopped) options.onFatal(error);
  });

  /**
   * Before every JoinGroup (kafkajs's fetchers stopped, the batches in hand
   * ended): the worker finishes what this generation still holds, heartbeating
   * meanwhile, so that its commits land under the generation that owns them.
   */
  async function revoke(): Promise<void> {
    if (generation === 0 || stopped || options.onRevoking === undefined) return;
    rebalancing = true;
    const beat = heartbeat;
    const timer = beat === null ? null : setInterval(() => {
      beat().catch((error) => logger.debug("heartbeat while revoking", errorFields(error)));
    }, REVOKE_HEARTBEAT_MS);
    try {
      await options.onRevoking([...assigned].sort((a, b) => a - b));
    } catch (error) {
      logger.warn("finishing the revoked partitions failed", errorFields(error));
    } finally {
      if (timer !== null) clearInterval(timer);
    }
  }

  /** Commits through the group member; a refusal for good rejects with a CommitRejectedError. */
  const commitOffsets = async (offsets: PartitionOffset[]) => {
    try {
      await consumer.commitOffsets(
        offsets.map((o) => ({
          topic,
          partition: o.partition,
          offset: o.offset,
          metadata: o.metadata ?? null,
        })),
      );
    } catch (error) {
      throw commitRejection(kafkajsErrorTypes(error), {
        group: options.group,
        withoutMembership: false,
        cause: error,
      }) ?? error;
    }
  };

  /** Commits `offsets`; rejects unless kafkajs reports them (or later ones) committed. */
  const commitChecked = async (offsets: PartitionOffset[]) => {
    if (offsets.length === 0) return;
    const since = commitSeq;
    await commitOffsets(offsets);
    // kafkajs drops a commit silently while its runner is stopped or the
    // partition is not assigned: report it instead of claiming success.
    if (!confirmed(offsets, since, false)) {
      throw new Error(
        `offsets of partitions ${offsets.map((o) => o.partition).join(", ")} were not ` +
          "committed: the consumer is not running or no longer holds them",
      );
    }
  };

  /** The resolved offsets of this generation that no commit reported reaching yet. */
  const behind = (): PartitionOffset[] =>
    [...resolved].filter(([partition, offset]) => {
      const committed = committedNow.get(partition);
      return assigned.has(partition) &&
        (committed === undefined || BigInt(committed.offset) < BigInt(offset));
    }).map(([partition, offset]) => ({ partition, offset }));

  /** Commits through the group member; kafkajs skips commits silently until its runner runs, so confirm. */
  const commitConfirmed = async (offsets: PartitionOffset[], forGeneration: number | null) => {
    for (let attempt = 0;; attempt++) {
      if (forGeneration !== null && forGeneration !== generation) {
        throw new StaleAssignmentError(`assignment ${forGeneration} was replaced by ${generation}`);
      }
      const since = commitSeq;
      await commitOffsets(offsets);
      if (confirmed(offsets, since, true)) return;
      if (attempt > 200) throw new Error("kafkajs did not commit the start positions");
      await new Promise((r) => setTimeout(r, 50));
    }
  };

  return {
    async describe(partitions) {
      return await describePartitions(admin, options.group, topic, partitions);
    },
    async begin(forGeneration, positions) {
      if (positions.length === 0) return true;
      await commitConfirmed(positions, forGeneration);
      // kafkajs retried the commit under the next generation: it happened,
      // but this assignment is over and is not read.
      if (forGeneration !== generation) return false;
      for (const { partition, offset } of positions) {
        expectedStart.set(partition, offset);
        readable.add(partition);
        consumer.seek({ topic, partition, offset });
      }
      consumer.resume([{ topic, partitions: positions.map((p) => p.partition) }]);
      return true;
    },
    commit: commitChecked,
    pause(partitions) {
      consumer.pause([{ topic, partitions }]);
    },
    resume(partitions) {
      // Throws while kafkajs restarts its consumer group: the caller retries.
      consumer.resume([{ topic, partitions: partitions.filter((p) => assigned.has(p)) }]);
    },
    async stop() {
      stopped = true;
      catchUp.stop();
      // kafkajs stops a consumer still joining by dropping it, and its member, once the
      // coordinator answers, stays in the group until the session timeout, holding partitions.
      // Joined, its disconnect leaves the group. So does a join kafkajs began after a restart of
      // its own. The caller bounds the wait.
      await joined;
      if (joinUnderWay !== null) {
        await joinUnderWay.done;
        // kafkajs's runner counts itself running only after the join's event: a stop before
        // that would not leave.
        await new Promise((r) => setTimeout(r, 0));
      }
      await consumer.disconnect(); // the admin client's cluster too
    },
  };
}

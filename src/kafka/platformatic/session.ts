/**
 * The platformatic engine: a {@linkcode ConsumerSession} on @platformatic/kafka,
 * in both modes.
 *
 * The library's `consume()` stream starts fetching by itself on every join,
 * before a start position could be decided, so the session runs its own
 * fetch loop (one Fetch per leader per round, as simple mode does on
 * kafkajs) and uses the library's `Consumer` only for the connection, the
 * metadata and, in balanced mode, the group membership:
 * - `consumer:group:join` carries the new assignment; `onAssigned` is called
 *   synchronously there, and nothing of it is fetched before `begin()`;
 * - the library awaits `protocolsMetadata` before every rejoin (given
 *   once the member was first assigned: `joinOptions()`): the revoke
 *   hook. It stops fetching, lets the batches in hand end (a handler call
 *   in progress finishes; `heartbeat()` rejects so that no further message
 *   of the batch starts), awaits `onRevoking`, and commits (auto mode)
 *   under the generation that still owns the partitions;
 * - commits carry this session's generation and member id (simple mode:
 *   -1 and none) and reject unless every partition was applied. The
 *   library's `commit()` is never used: it rejoins and commits again under a
 *   newer generation, possibly for partitions no longer owned;
 * - the library heartbeats on its own timer, so a long handler call does
 *   not need keepalive heartbeats from the batch.
 *
 * @module
 */
import { errorFields, type Logger } from "../../log.ts";
import { backoffDelay } from "../../backoff.ts";
import {
  type Assignment,
  type ConsumerSession,
  type FetchedBatch,
  InstanceIdInUseError,
  type PartitionOffset,
  type PartitionState,
  type SessionOptions,
  StaleAssignmentError,
  type StopOptions,
  tagHeartbeatFailure,
} from "../session.ts";
import { type FetchResponse, isRetriable, PlatformaticClient } from "./client.ts";
import { ConsumerGroupMember } from "./consumer_group_member.ts";
import { groupTiming, memberRebalanceTimeoutMs } from "../group_timing.ts";
import { type PartitionRecords, partitionRecords } from "./records.ts";
import { checkOffsets, isOffset } from "../offset_checks.ts";
import { BackgroundCommits } from "../background_commit.ts";
import { CommitRejectedError } from "../commit_rejected.ts";
import { type OutOfRangeSession, resetOutOfRange, roundFailure } from "../out_of_range.ts";
import {
  advanceCursor,
  type FetchCursor,
  markCommitted,
  newCursors,
  readyCursors,
  uncommittedPositions,
} from "../fetch_cursor.ts";

/** Kafka's OFFSET_OUT_OF_RANGE error code. */
const OFFSET_OUT_OF_RANGE = 1;
/** Failed fetch rounds in a row before the session gives up (about three minutes of backoff). */
const FETCH_ATTEMPTS = 12;
const BACKOFF = { baseMs: 300, maxMs: 30_000, jitter: 0.2 } as const;
/** How often the member heartbeats itself while the revoke hook waits (the library does not then). */
const REVOKE_HEARTBEAT_MS = 3_000;
/** How long the loop idles when no partition can be fetched, unless woken. */
const IDLE_MS = 1_000;

/** One partition of a fetch: the cursor asked for, its epoch then, and the offset asked. */
interface Ask {
  cursor: FetchCursor;
  epoch: number;
  offset: string;
}

/** What one round of fetches returned, before any of it is handed over. */
interface FetchedRound {
  asks: Map<number, Ask>;
  fetched: PartitionRecords[];
  outOfRange: FetchCursor[];
  /** The fetches that failed (their partitions out of range, if any, are in `outOfRange` too). */
  failures: unknown[];
}

/** The next round's fetch, sent while this round's batches are handled. */
interface Prefetch {
  asks: Map<number, Ask>;
  round: Promise<FetchedRound>;
}

/** The group is rebalancing: the batch in hand stops after the handler call in progress. */
class RebalancingError extends Error {
  override name = "RebalancingError";
}

/**
 * Starts a platformatic-engine session: balanced mode joins the group (not
 * awaited: the assignment arrives through `onAssigned`), simple mode
 * announces its fixed partitions as generation 1 right after this resolves.
 *
 * @throws {Error} If the brokers cannot be reached, the topic does not exist,
 * or the installed @platformatic/kafka lacks an API the engine uses.
 */
export async function startPlatformaticSession(
  options: SessionOptions,
  mode: "balanced" | "simple",
): Promise<ConsumerSession> {
  let session: PlatformaticSession | null = null;
  // With the consumer protocol the session is the group member itself; the library never joins.
  const classic = mode === "balanced" && options.groupProtocol === "classic";
  const client = await PlatformaticClient.create({
    kafka: options.kafka,
    clientIdSuffix: options.clientIdSuffix,
    group: options.group,
    topic: options.topic,
    fetch: options.fetch,
    instanceId: mode === "balanced" ? options.instanceId : null,
    membership: !classic ? null : {
      ...groupTiming(options.kafka, options.maxHandlerMs),
      beforeJoin: () => session?.beforeJoin() ?? Promise.resolve(),
      joined: () => session?.joined ?? false,
    },
  });
  try {
    const existing = await client.partitions();
    let partitions: number[] = [];
    if (mode === "simple") {
      partitions = options.partitions === null
        ? existing
        : [...options.partitions].sort((a, b) => a - b);
      const missing = partitions.filter((p) => !existing.includes(p));
      if (missing.length > 0) {
        throw new RangeError(
          `Cannot read partition ${missing.join(", ")} of topic "${options.topic}": it does not ` +
            `exist; the topic has partitions ${existing.join(", ")}`,
        );
      }
    }
    const topicId = mode === "balanced" && !classic ? await client.topicId() : null;
    session = new PlatformaticSession(client, options, { mode, partitions, topicId });
    options.logger.info("platformatic session connected", {
      topic: options.topic,
      group: options.group,
      mode,
    });
    return session;
  } catch (error) {
    await client.close().catch(() => {});
    throw error;
  }
}

class PlatformaticSession implements ConsumerSession {
  #client: PlatformaticClient;
  #options: SessionOptions;
  #log: Logger;
  #mode: "balanced" | "simple";
  #cursors = new Map<number, FetchCursor>();
  /** This session's assignment counter, and the group's generation and member id it came with. */
  #generation = 0;
  #groupGeneration = -1;
  #memberId = "";
  #running = true;
  /** Set from the revoke hook until the next assignment: nothing is fetched or started. */
  #revoking = false;
  /** The group no longer knows this member (seen while revoking): batches end at once. */
  #gone = false;
  #closed = false;
  #stopped: Promise<void> | null = null;
  #loop: Promise<void>;
  /** The fetch round under way (its batches being handled), or a resolved promise. */
  #round: Promise<void> = Promise.resolve();
  #wake: (() => void) | null = null;
  /** The last prefetch, settled or not: the next Fetch waits for it (one Fetch at a time). */
  #prefetching: Promise<void> = Promise.resolve();
  #commits: Promise<unknown> = Promise.resolve();
  /** Auto commits after each batch, in the background (none while revoking: the hook commits). */
  #autoCommits: BackgroundCommits;
  #announce: ReturnType<typeof setTimeout> | null = null;
  /** The consumer-protocol membership; null in simple mode and with the classic protocol. */
  #member: ConsumerGroupMember | null = null;
  /** The assignment generation each cursor was begun in (its batches carry it). */
  #cursorGeneration = new WeakMap<FetchCursor, number>();
  /** Cursors of partitions being given up (consumer protocol): nothing new is fetched or started. */
  #releasing = new Set<FetchCursor>();
  /** Each cursor's batch being handled, if any. */
  #delivering = new Map<FetchCursor, Promise<void>>();
  /** Bumped when the consumer-protocol member loses its partitions (a reconcile under way is void). */
  #fences = 0;
  /** Cursors of released partitions: commits asked for after their last one leave them out. */
  #sealed = new WeakSet<FetchCursor>();

  constructor(
    client: PlatformaticClient,
    options: SessionOptions,
    { mode, partitions, topicId }: {
      mode: "balanced" | "simple";
      /** Simple mode: the fixed partitions. */
      partitions: number[];
      /** The topic's id with the consumer protocol; null for the library's classic membership. */
      topicId: string | null;
    },
  ) {
    this.#client = client;
    this.#options = options;
    this.#log = options.logger;
    this.#mode = mode;
    this.#autoCommits = new BackgroundCommits({
      commit: () => this.#commitResolved(),
      enabled: () => this.#options.autoCommit && this.#running && !this.#revoking,
      onError: (error) => this.#autoCommitFailed(error),
      retryMs: options.commitIntervalMs,
    });
    const consumer = client.consumer;
    if (mode === "simple") {
      this.#announce = setTimeout(() => {
        if (this.#running) this.#assign({ groupGeneration: -1, memberId: "", partitions });
      }, 0);
    } else if (topicId !== null) {
      this.#member = new ConsumerGroupMember({
        client,
        topicId,
        daemonInstanceId: options.kafka.instanceId,
        serverAssignor: options.kafka.groupRemoteAssignor,
        rebalanceTimeoutMs: memberRebalanceTimeoutMs(options.maxHandlerMs),
        logger: options.logger,
        reconcile: (target) => this.#reconcile(target),
        lose: () => this.#lose(),
        onMembership: ({ memberId, epoch }) =>
          options.onMembership?.({ memberId, generation: epoch }),
        onWaiting: (problem) => options.onWaiting?.(problem),
        onFatal: (error) => this.#fail(error),
      });
      this.#member.start();
    } else {
      consumer.on("consumer:group:join", (event) => {
        const partitions = (event.assignments ?? [])
          .filter((a) => a.topic === options.topic)
          .flatMap((a) => a.partitions);
        this.#assign({
          groupGeneration: event.generationId ?? consumer.generationId,
          memberId: event.memberId,
          partitions,
        });
      });
      consumer.on("error", (error: unknown) => this.#fail(error));
      this.#client.joinGroup().catch((error: unknown) => this.#fail(error));
    }
    this.#loop = this.#run();
  }

  /** A new assignment: synchronous, before anything of it is fetched. */
  #assign(
    { groupGeneration, memberId, partitions }: {
      groupGeneration: number;
      memberId: string;
      partitions: number[];
    },
  ): void {
    if (!this.#running) return;
    this.#generation++;
    if (
      this.#mode === "balanced" &&
      (groupGeneration !== this.#groupGeneration || memberId !== this.#memberId)
    ) {
      this.#options.onMembership?.({ memberId, generation: groupGeneration });
    }
    this.#groupGeneration = groupGeneration;
    this.#memberId = memberId;
    this.#cursors = newCursors(partitions);
    for (const cursor of this.#cursors.values()) {
      this.#cursorGeneration.set(cursor, this.#generation);
    }
    this.#revoking = false;
    this.#gone = false;
    const assignment: Assignment = {
      generation: this.#generation,
      partitions: [...partitions].sort((a, b) => a - b),
      ...(this.#mode === "balanced" ? { memberId } : {}),
    };
    this.#options.onAssigned(assignment);
    this.#wake?.();
  }

  /**
   * The consumer protocol's new assignment `target`: partitions given up
   * stop (the handler call in progress finishes), and what finished of them
   * is committed (auto mode) before the member tells the broker they are
   * released; partitions kept go on being read where they are; new ones
   * are announced to begin. Resolves once the session holds `target`.
   */
  async #reconcile(target: number[]): Promise<void> {
    if (!this.#running) return;
    const fences = this.#fences;
    const released = [...this.#cursors.values()].filter((c) => !target.includes(c.partition));
    if (released.length > 0) {
      // Marked first: a batch of them waiting for room in the worker sees it is over when woken.
      for (const cursor of released) this.#releasing.add(cursor);
      this.#options.onRebalancing?.();
      await Promise.all(released.map((c) => this.#delivering.get(c)));
      // The worker finishes what it runs of them and commits it while they are still this
      // member's (ordering key and none: calls outlive the batch that delivered them).
      await this.#options.onRevoking?.(released.map((c) => c.partition).sort((a, b) => a - b))
        .catch((error) =>
          this.#log.warn("finishing the released partitions failed", errorFields(error))
        );
      const last = this.#options.autoCommit && !this.#closed
        ? this.#commit(uncommittedPositions(released), { releasing: true })
        : Promise.resolve();
      // Every commit asked for after this one leaves these partitions out: once released they
      // are another member's, and a late commit would move that member's offset.
      for (const cursor of released) this.#sealed.add(cursor);
      await last.catch((error) =>
        this.#log.warn("commit before releasing partitions failed", errorFields(error))
      );
      await this.#commits.catch(() => {}); // and every commit asked for before it landed
      // Stopping, or fenced meanwhile (the partitions are lost; the rejoin decides anew).
      if (!this.#running || fences !== this.#fences) return;
    }
    const held = [...this.#cursors.keys()].sort((a, b) => a - b);
    if (this.#generation > 0 && released.length === 0 && held.join() === target.join()) return;
    this.#assignIncremental(target);
  }

  /** Takes `target` as the assignment, keeping the cursors that read and stay. */
  #assignIncremental(target: number[]): void {
    this.#generation++;
    const cursors = new Map<number, FetchCursor>();
    const kept: number[] = [];
    for (const partition of [...target].sort((a, b) => a - b)) {
      const cursor = this.#cursors.get(partition);
      if (cursor !== undefined && cursor.position !== null && !this.#releasing.has(cursor)) {
        cursors.set(partition, cursor);
        kept.push(partition);
        continue;
      }
      const fresh = newCursors([partition]).get(partition)!;
      this.#cursorGeneration.set(fresh, this.#generation);
      cursors.set(partition, fresh);
    }
    this.#cursors = cursors;
    this.#releasing.clear();
    this.#gone = false;
    this.#options.onAssigned({
      generation: this.#generation,
      partitions: [...cursors.keys()],
      kept,
      memberId: this.#member!.memberId,
    });
    this.#wake?.();
  }

  /**
   * The consumer protocol fenced the member: its partitions may already be
   * read by others. Their batches end at once and nothing is committed;
   * the member joins again for a new assignment.
   */
  async #lose(): Promise<void> {
    this.#fences++;
    const lost = [...this.#cursors.values()];
    this.#gone = true;
    for (const cursor of lost) this.#releasing.add(cursor);
    await Promise.all(lost.map((c) => this.#delivering.get(c)));
    if (this.#running) this.#assignIncremental([]);
  }

  /** Whether the session was ever assigned partitions (it has something to revoke). */
  get joined(): boolean {
    return this.#generation !== 0;
  }

  /**
   * Awaited by the library before every rejoin. A static member that the
   * library dropped its member id for (unknown, or fenced) asks the group
   * first: when another member holds its instance id, it fails instead of
   * rejoining (which would fence the other in turn). Then the revoke hook.
   */
  async beforeJoin(): Promise<void> {
    const { instanceId } = this.#options;
    if (instanceId !== null && this.#memberId !== "" && this.#client.consumer.memberId === null) {
      const state = await this.#client.heartbeat(this.#groupGeneration, this.#memberId)
        .catch(() => "member" as const);
      if (state === "fenced") {
        this.#gone = true;
        throw new InstanceIdInUseError(instanceId, {
          group: this.#options.group,
          daemon: this.#options.kafka.instanceId,
        });
      }
    }
    await this.revoke();
  }

  /**
   * The revoke hook: stop fetching, let the batches in hand end, commit
   * what finished under the generation that owns it.
   */
  async revoke(): Promise<void> {
    if (this.#generation === 0 || !this.#running) return;
    if (!this.#revoking) this.#options.onRebalancing?.();
    this.#revoking = true;
    this.#wake?.();
    // The library stopped heartbeating to rejoin; until this member sends its
    // JoinGroup it stays in the group only while it heartbeats.
    const generation = this.#groupGeneration;
    const memberId = this.#memberId;
    const beat = () =>
      this.#client.heartbeat(generation, memberId).then(
        (state) => {
          if (state !== "member") this.#gone = true;
        },
        (error) => this.#log.debug("heartbeat while rebalancing failed", errorFields(error)),
      );
    const timer = setInterval(() => void beat(), REVOKE_HEARTBEAT_MS);
    try {
      await this.#round;
      await this.#options.onRevoking?.([...this.#cursors.keys()].sort((a, b) => a - b))
        .catch((error) =>
          this.#log.warn("finishing the revoked partitions failed", errorFields(error))
        );
    } finally {
      clearInterval(timer);
    }
    if (this.#options.autoCommit && !this.#closed) {
      await this.#commitResolved().catch((error) => {
        this.#log.warn("commit before rejoining failed", errorFields(error));
        if (error instanceof CommitRejectedError) this.#fail(error);
      });
    }
  }

  async describe(partitions: number[]): Promise<PartitionState[]> {
    const [committed, low, high] = await Promise.all([
      this.#client.committed(partitions, this.#log),
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
    this.#checkGeneration(generation);
    this.#checkOffsets(positions, "positions");
    if (!this.#running) throw new Error("Cannot begin reading: the session has stopped");
    if (positions.length === 0) return true;
    await this.#commit(positions);
    // Committed, but the assignment moved on meanwhile: nothing to read.
    if (generation !== this.#generation) return false;
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
    }
  }

  resume(partitions: number[]): void {
    for (const partition of partitions) {
      const cursor = this.#cursors.get(partition);
      if (!cursor || !cursor.paused) continue;
      cursor.paused = false;
      cursor.epoch++;
    }
    this.#wake?.();
  }

  stop({ leave = true }: StopOptions = {}): Promise<void> {
    this.#stopped ??= this.#stop(leave);
    return this.#stopped;
  }

  async #stop(leave: boolean): Promise<void> {
    this.#running = false;
    // Still a member while draining, but it releases nothing more.
    this.#member?.freeze();
    if (this.#announce !== null) clearTimeout(this.#announce);
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
    // Leaves the group (balanced mode; a static member only with `leave`) and closes every connection.
    await this.#member?.leave({ forAWhile: !leave });
    await this.#client.close({ leave });
    this.#log.info("platformatic session stopped", {});
    if (failure !== null) throw failure;
  }

  #fail(error: unknown): void {
    if (!this.#running) return;
    this.#running = false;
    this.#wake?.();
    this.#options.onFatal(error);
  }

  /**
   * The fetch loop: runs until stop() or a non-retriable error. While one
   * round's batches are handled, the next round's fetch is already on its
   * way (from where those batches end); it is used only for partitions that
   * end up exactly there, in the same epoch, and fetched afresh otherwise.
   */
  async #run(): Promise<void> {
    let failures = 0;
    let prefetch: Prefetch | null = null;
    while (this.#running) {
      const ready = this.#revoking
        ? []
        : readyCursors(this.#cursors.values()).filter((c) => !this.#releasing.has(c));
      if (ready.length === 0) {
        prefetch = null;
        await this.#idle(IDLE_MS);
        continue;
      }
      const asks = new Map(
        ready.map((c) => [c.partition, { cursor: c, epoch: c.epoch, offset: c.position! }]),
      );
      const handled = this.#nextRound(asks, prefetch).then((round) => {
        prefetch = this.#prefetch(round);
        return this.#handleRound(round);
      });
      prefetch = null;
      this.#round = handled.catch(() => {});
      try {
        await handled;
        failures = 0;
      } catch (error) {
        prefetch = null;
        if (this.#running) await this.#recover(error, ++failures);
      }
    }
  }

  /**
   * This round's records: the prefetched ones of the partitions it asked for
   * as `asks` does now, and a fresh fetch for the others.
   */
  async #nextRound(asks: Map<number, Ask>, prefetch: Prefetch | null): Promise<FetchedRound> {
    if (prefetch === null) return await this.#fetchRound(asks);
    const matches = (a: Ask | undefined, b: Ask) =>
      a !== undefined && a.cursor === b.cursor && a.epoch === b.epoch && a.offset === b.offset;
    const fresh = new Map([...asks].filter(([p, ask]) => !matches(prefetch.asks.get(p), ask)));
    // One Fetch at a time: two in flight would share the broker's fetch
    // session and its epoch, and the broker refuses the second (the library
    // then retries it a second later). A prefetch nobody uses still ends first.
    const early = await prefetch.round.catch((error: unknown) => {
      if (fresh.size < asks.size) throw error;
      return null;
    });
    if (early === null || fresh.size === asks.size) return await this.#fetchRound(asks);
    const late = fresh.size === 0 ? null : await this.#fetchRound(fresh);
    const kept = (records: PartitionRecords) =>
      !fresh.has(records.partition) && asks.has(records.partition);
    return {
      asks,
      fetched: [...early.fetched.filter(kept), ...(late?.fetched ?? [])],
      outOfRange: [
        ...early.outOfRange.filter((c) =>
          asks.get(c.partition)?.cursor === c && !fresh.has(c.partition)
        ),
        ...(late?.outOfRange ?? []),
      ],
      failures: [...(late?.failures ?? []), ...early.failures],
    };
  }

  /**
   * Sends the round after `round`: each partition from where its records end
   * (the position once they are all handled), a partition without records
   * from where it stands. None after a failed or reset round, or once
   * revoking.
   */
  #prefetch(round: FetchedRound): Prefetch | null {
    if (!this.#running || this.#revoking) return null;
    if (round.failures.length > 0 || round.outOfRange.length > 0) return null;
    const asks = new Map(round.asks);
    for (const records of round.fetched) {
      const ask = asks.get(records.partition)!;
      if (records.lastOffset === null) continue;
      asks.set(records.partition, { ...ask, offset: String(BigInt(records.lastOffset) + 1n) });
    }
    const next = this.#fetchRound(asks);
    this.#prefetching = next.then(() => {}, () => {}); // a prefetch nobody uses fails quietly
    return { asks, round: next };
  }

  async #recover(error: unknown, attempt: number): Promise<void> {
    if (isRetriable(error) && attempt < FETCH_ATTEMPTS) {
      const delayMs = Math.round(backoffDelay(attempt, BACKOFF));
      this.#log.warn("fetch failed; reloading metadata and retrying", {
        attempt,
        delayMs,
        ...errorFields(error),
      });
      await this.#client.metadata(true).catch(() => {});
      await this.#idle(delayMs);
      return;
    }
    this.#log.error("fetch loop stopped", { attempts: attempt, ...errorFields(error) });
    this.#fail(error);
  }

  /** One Fetch per leader for `asked`; nothing is handed over yet. */
  async #fetchRound(asked: Map<number, Ask>): Promise<FetchedRound> {
    // A prefetch dropped unused (revoking, nothing ready) may still be at the broker.
    await this.#prefetching;
    const leaders = await this.#client.leaders([...asked.keys()]);
    const topicId = await this.#client.topicId();
    const results = await Promise.allSettled(
      [...leaders].map(([node, partitions]) =>
        this.#client.fetch(
          node,
          partitions.map((partition) => ({ partition, offset: asked.get(partition)!.offset })),
        )
      ),
    );
    const fetched: PartitionRecords[] = [];
    const outOfRange: FetchCursor[] = [];
    const failures: unknown[] = [];
    for (const result of results) {
      const response: FetchResponse | undefined = result.status === "fulfilled"
        ? result.value
        : responseOf(result.reason);
      if (result.status === "rejected") failures.push(result.reason);
      for (const topic of response?.responses ?? []) {
        if (topic.topicId !== topicId && topic.topicId !== this.#client.topic) continue;
        for (const data of topic.partitions) {
          const entry = asked.get(data.partitionIndex);
          if (!entry) continue; // left in the broker's fetch session, not asked now
          if (data.errorCode === OFFSET_OUT_OF_RANGE) outOfRange.push(entry.cursor);
          else if (data.errorCode === 0) {
            fetched.push(partitionRecords(data, BigInt(entry.offset)));
          }
        }
      }
    }
    return { asks: asked, fetched, outOfRange, failures };
  }

  /** Hands each partition's records to `onBatch`, up to `concurrency` at once; then resets and failures. */
  async #handleRound({ asks, fetched, outOfRange, failures }: FetchedRound): Promise<void> {
    // Still this cursor, in the epoch it was asked in, and standing where the records begin.
    const deliverable = (records: PartitionRecords) => {
      const entry = asks.get(records.partition)!;
      const { cursor } = entry;
      return this.#running && !this.#revoking && !cursor.paused && cursor.epoch === entry.epoch &&
        this.#cursors.get(cursor.partition) === cursor && !this.#releasing.has(cursor) &&
        cursor.position === entry.offset;
    };
    let next = 0;
    const lane = async () => {
      while (next < fetched.length) {
        const records = fetched[next++]!;
        if (deliverable(records)) {
          await this.#deliver(asks.get(records.partition)!.cursor, records);
        }
      }
    };
    const lanes = Math.max(1, Math.min(this.#options.concurrency, fetched.length));
    // Every lane ends before the round does, even when one fails.
    const ended = await Promise.allSettled(Array.from({ length: lanes }, lane));
    const laneFailure = ended.find((r) => r.status === "rejected");
    if (laneFailure) throw laneFailure.reason;
    for (const cursor of outOfRange) {
      if (this.#running && this.#cursors.get(cursor.partition) === cursor) {
        await resetOutOfRange(cursor, this.#outOfRangeSession());
      }
    }
    // Reset, the partitions out of range are handled; any other failure of the round is not.
    const failure = roundFailure(failures, onlyOutOfRange);
    if (failure !== null) throw failure;
  }

  async #deliver(cursor: FetchCursor, records: PartitionRecords): Promise<void> {
    const { partition } = cursor;
    if (records.size === 0) {
      // Only control records or aborted transactions: move past them.
      if (records.lastOffset !== null) {
        advanceCursor(cursor, records.lastOffset);
        this.#autoCommits.request();
      }
      return;
    }
    const epoch = cursor.epoch;
    const topic = this.#client.topic;
    const first = BigInt(records.offsetAt(0));
    const last = records.offsetAt(records.size - 1);
    const active = () =>
      this.#running && !this.#revoking && !cursor.paused && cursor.epoch === epoch &&
      this.#cursors.get(partition) === cursor && !this.#releasing.has(cursor);
    const batch: FetchedBatch = {
      partition,
      generation: this.#cursorGeneration.get(cursor) ?? this.#generation,
      highWatermark: records.highWatermark,
      size: records.size,
      at: (i) => records.messageAt(topic, i),
      resolve: (offset) => {
        if (!isOffset(offset) || BigInt(offset) < first || BigInt(offset) > BigInt(last)) {
          throw new RangeError(
            `Cannot resolve offset ${offset} of partition ${partition}: the batch holds ${first} to ${last}`,
          );
        }
        // Resolving the last record also passes the control records after it.
        advanceCursor(cursor, offset === last ? records.lastOffset! : offset);
      },
      active,
      // The library heartbeats on its own timer, and the revoke hook while it
      // waits: this only says when the batch must end.
      heartbeat: () =>
        this.#gone
          ? Promise.reject(
            tagHeartbeatFailure(new RebalancingError("the member left the group"), "gone"),
          )
          : this.#revoking || this.#releasing.has(cursor)
          ? Promise.reject(
            tagHeartbeatFailure(new RebalancingError("the group is rebalancing"), "rebalance"),
          )
          : Promise.resolve(),
    };
    const handled = this.#options.onBatch(batch);
    const settled = handled.then(() => {}, () => {});
    this.#delivering.set(cursor, settled);
    try {
      await handled;
    } catch (error) {
      if (!(error instanceof RebalancingError)) throw error;
      return; // the revoke hook commits what finished
    } finally {
      if (this.#delivering.get(cursor) === settled) this.#delivering.delete(cursor);
    }
    this.#autoCommits.request();
  }

  /**
   * An auto commit failed: one that Kafka refused for good stops the
   * session; any other is tried again (see {@linkcode BackgroundCommits}).
   */
  #autoCommitFailed(error: unknown): boolean {
    if (error instanceof CommitRejectedError) {
      this.#log.error("auto commit refused; stopping", errorFields(error));
      this.#fail(error);
      return false;
    }
    this.#log.warn("auto commit failed; committing again", {
      retryInMs: this.#options.commitIntervalMs,
      ...errorFields(error),
    });
    return true;
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

  async #commitResolved(): Promise<void> {
    await this.#commit(uncommittedPositions(this.#cursors.values()));
  }

  /**
   * Commits under the current generation (the member's epoch when it is
   * sent, with the consumer protocol; a transaction reads it again right
   * before its offsets), after every commit already under way;
   * without the partitions released meanwhile (but for the `releasing`
   * commit, their last).
   */
  #commit(
    offsets: PartitionOffset[],
    { releasing = false }: { releasing?: boolean } = {},
  ): Promise<void> {
    if (this.#closed) return Promise.reject(new Error("Cannot commit: the session is stopped"));
    if (offsets.length === 0) return Promise.resolve();
    const cursors = this.#cursors;
    const generation = this.#groupGeneration;
    const memberId = this.#memberId;
    const member = this.#member;
    // The partitions of `offsets` are held now: lost before the transaction's offsets go, it aborts.
    const fences = this.#fences;
    const done = this.#commits.catch(() => {}).then(async () => {
      const sent = releasing
        ? offsets
        : offsets.filter((o) => !this.#sealed.has(cursors.get(o.partition)!));
      if (sent.length === 0) return;
      const committer = this.#options.commitOffsets;
      if (committer !== undefined) {
        await committer(sent, {
          group: this.#options.group,
          generation: member === null ? generation : member.epoch,
          memberId: member === null ? memberId : member.memberId,
          instanceId: this.#options.instanceId,
          coordinator: await this.#client.coordinator(),
          ...(member === null ? {} : {
            epoch: () => fences === this.#fences && member.epoch > 0 ? member.epoch : null,
          }),
        });
      } else if (member === null) await this.#client.commit(generation, memberId, sent);
      else await member.commit(sent);
      markCommitted(cursors, sent);
      this.#options.onCommitted(sent);
    });
    this.#commits = done;
    return done;
  }

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

  #checkGeneration(generation: number): void {
    if (generation === this.#generation) return;
    if (this.#generation === 0) {
      throw new RangeError(
        `Cannot begin reading generation ${generation} as the session has no assignment yet: wait for onAssigned`,
      );
    }
    if (this.#mode === "simple") {
      throw new RangeError(
        `Cannot begin reading as 'generation' must be 1 in simple mode: current value is ${generation}`,
      );
    }
    throw new StaleAssignmentError(`assignment ${generation} was replaced by ${this.#generation}`);
  }

  #checkOffsets(offsets: PartitionOffset[], name: string): void {
    checkOffsets(offsets, this.#cursors, name);
  }
}

/** The response a failed Fetch still carries (partition errors such as OFFSET_OUT_OF_RANGE). */
function responseOf(error: unknown): FetchResponse | undefined {
  const response = typeof error === "object" && error !== null
    ? (error as { response?: unknown }).response
    : undefined;
  return typeof response === "object" && response !== null &&
      Array.isArray((response as FetchResponse).responses)
    ? response as FetchResponse
    : undefined;
}

/** Whether a failed Fetch failed only because partitions were out of range (they are reset). */
function onlyOutOfRange(error: unknown): boolean {
  const partitions = responseOf(error)?.responses.flatMap((t) => t.partitions) ?? [];
  return partitions.some((p) => p.errorCode === OFFSET_OUT_OF_RANGE) &&
    partitions.every((p) => p.errorCode === 0 || p.errorCode === OFFSET_OUT_OF_RANGE);
}

/**
 * A member of a consumer group under the consumer group protocol (KIP-848),
 * for the platformatic engine. The broker assigns: each
 * ConsumerGroupHeartbeat reports what the member holds, and its answer says
 * what it is to hold now. Only partitions that change owner move: the
 * member keeps reading the others.
 *
 * The library's own implementation tells the broker it released a
 * partition as soon as the new assignment arrives; this one acknowledges
 * only once the session has drained and committed it (`reconcile`), so that
 * the next owner starts from the last handled message. It also leaves a
 * static member "for a while" (epoch -2) on a shutdown, as Java's consumer
 * does, where the library always leaves for good.
 *
 * @module
 */
import { errorFields, type Logger } from "../../log.ts";
import { InstanceIdInUseError, type PartitionOffset } from "../session.ts";
import { backoffDelay } from "../../backoff.ts";
import { errorIds, isRetriable, type PlatformaticClient } from "./client.ts";

/** Leave the group (epoch -1), or, for a static member, leave for a while (-2). */
const LEAVE = -1;
const LEAVE_FOR_A_WHILE = -2;
/** The member's epoch is behind, or the group forgot it: it lost its partitions and joins again. */
const LOST = new Set(["FENCED_MEMBER_EPOCH", "UNKNOWN_MEMBER_ID"]);
/** Another member holds this static member's instance id. */
const UNRELEASED = "UNRELEASED_INSTANCE_ID";
const FENCED_INSTANCE = "FENCED_INSTANCE_ID";
/** Errors after which the coordinator is looked up again. */
const COORDINATOR = new Set([
  "NOT_COORDINATOR",
  "COORDINATOR_NOT_AVAILABLE",
  "COORDINATOR_LOAD_IN_PROGRESS",
]);
/** How often a member whose instance id is held by another tries to join again, ms. */
const UNRELEASED_RETRY_MS = 5_000;
/** The heartbeat interval until the broker gives one (its default is 5 s), ms. */
const FIRST_INTERVAL_MS = 5_000;
const BACKOFF = { baseMs: 500, maxMs: 5_000, jitter: 0.2 } as const;
/** Commits sent again after the epoch moved on while they were on their way, and the wait before each. */
const STALE_EPOCH_RETRIES = 5;
const STALE_EPOCH_WAIT_MS = 200;

/** A ConsumerGroupHeartbeat's answer. */
interface ConsumerGroupHeartbeatResponse {
  memberId: string | null;
  memberEpoch: number;
  heartbeatIntervalMs: number;
  /** The partitions the member is to hold now, by topic id; null when unchanged. */
  assignment: { topicPartitions: Array<{ topicId: string; partitions: number[] }> } | null;
}

/** Options for {@linkcode ConsumerGroupMember}. */
export interface ConsumerGroupMemberOptions {
  client: PlatformaticClient;
  /** The topic's id (assignments name topics by id). */
  topicId: string;
  /** `kafka.instanceId`, for the error that names it. */
  daemonInstanceId: string;
  /** The broker's assignor to ask for, or null for its default. */
  serverAssignor: string | null;
  /** How long the broker waits for the member to release partitions it must give up. */
  rebalanceTimeoutMs: number;
  logger: Logger;
  /**
   * The member is to hold exactly `target` now: resolves once it does
   * (partitions it gives up drained and committed, new ones taken in).
   * Until then the broker is told it still holds what it held. Called one
   * at a time; the first call (after each join) may be empty.
   */
  reconcile(target: number[]): Promise<void>;
  /** The member lost its partitions (its epoch was fenced): drop them at once, commit nothing. */
  lose(): Promise<void>;
  /** The member id or epoch changed. */
  onMembership(membership: { memberId: string; epoch: number }): void;
  /** Why the member cannot join now (it keeps trying), or null once it joined. */
  onWaiting(problem: Error | null): void;
  /** The member cannot go on. */
  onFatal(error: unknown): void;
}

/**
 * One consumer-protocol member: join with {@linkcode ConsumerGroupMember.start},
 * leave with {@linkcode ConsumerGroupMember.leave}.
 *
 * @example
 * ```ts ignore
 * const member = new ConsumerGroupMember({ client, topicId, reconcile, … });
 * member.start();
 * await member.leave({ forAWhile: false });
 * ```
 */
export class ConsumerGroupMember {
  /** The member id, generated here (the broker assigns it only to version 0 clients). */
  memberId: string = crypto.randomUUID();
  /** The member epoch: 0 while joining. */
  epoch = 0;
  readonly #options: ConsumerGroupMemberOptions;
  readonly #log: Logger;
  /** What the broker is told the member holds. */
  #owned: number[] = [];
  /** The latest assignment not reconciled yet. */
  #target: number[] | null = null;
  #reconciling = false;
  /** Whether the member was in the group before (a join after a fence keeps its member id). */
  #joined = false;
  #intervalMs = FIRST_INTERVAL_MS;
  #timer: ReturnType<typeof setTimeout> | null = null;
  /** The heartbeat under way, and whether another is due right after it. */
  #beating: Promise<void> | null = null;
  #again = false;
  #failures = 0;
  #waiting = false;
  #stopped = false;
  /** The session stops: the member heartbeats on but reports no further change. */
  #frozen = false;
  /** Bumped when the member loses its partitions: a reconcile begun before is void. */
  #fences = 0;

  constructor(options: ConsumerGroupMemberOptions) {
    this.#options = options;
    this.#log = options.logger;
  }

  /** Joins the group (the first heartbeat). */
  start(): void {
    this.#beat();
  }

  /**
   * Keeps the membership alive while the session drains, but takes no new
   * assignment in and acknowledges no release: what the session holds now
   * is what it commits before it leaves.
   */
  freeze(): void {
    this.#frozen = true;
  }

  /**
   * Stops heartbeating and leaves: for good, or, for a static member with
   * `forAWhile`, keeping its partitions until the session times out so that
   * its next run (the same instance id) takes them back with no rebalance.
   */
  async leave({ forAWhile }: { forAWhile: boolean }): Promise<void> {
    this.#stopped = true;
    if (this.#timer !== null) clearTimeout(this.#timer);
    await this.#beating;
    if (!this.#joined) return;
    const epoch = forAWhile && this.#options.client.instanceId !== null ? LEAVE_FOR_A_WHILE : LEAVE;
    try {
      await this.#send(epoch);
    } catch (error) {
      this.#log.warn("leaving the group failed; the group waits for the session timeout", {
        ...errorFields(error),
      });
    }
  }

  /**
   * Commits `offsets` under the member's epoch. A heartbeat's answer can
   * bump the epoch while a commit is on its way: the broker then refuses it
   * as stale, and it is sent again under the new epoch (the partitions are
   * still held: the session releases a partition only after its commit).
   */
  async commit(offsets: PartitionOffset[]): Promise<void> {
    for (let attempt = 1;; attempt++) {
      try {
        return await this.#options.client.commit(this.epoch, this.memberId, offsets);
      } catch (error) {
        const stale = errorIds(error).includes("STALE_MEMBER_EPOCH");
        if (!stale || attempt >= STALE_EPOCH_RETRIES) throw error;
        await new Promise((r) => setTimeout(r, STALE_EPOCH_WAIT_MS));
      }
    }
  }

  /** Sends a heartbeat now, or right after the one under way. */
  #beat(): void {
    if (this.#stopped) return;
    if (this.#beating !== null) {
      this.#again = true;
      return;
    }
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
    this.#beating = this.#heartbeat().finally(() => {
      this.#beating = null;
      if (this.#again) {
        this.#again = false;
        this.#beat();
      }
    });
  }

  #schedule(ms: number): void {
    if (this.#stopped) return;
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = setTimeout(() => this.#beat(), ms);
  }

  async #heartbeat(): Promise<void> {
    let response: ConsumerGroupHeartbeatResponse;
    try {
      response = await this.#send(this.epoch);
    } catch (error) {
      await this.#failed(error);
      return;
    }
    this.#failures = 0;
    if (this.#waiting) {
      this.#waiting = false;
      this.#options.onWaiting(null);
    }
    const joining = !this.#joined;
    this.#joined = true;
    if (response.memberId && response.memberId !== this.memberId) this.memberId = response.memberId;
    if (response.heartbeatIntervalMs > 0) this.#intervalMs = response.heartbeatIntervalMs;
    if (joining || response.memberEpoch !== this.epoch) {
      this.epoch = response.memberEpoch;
      this.#options.onMembership({ memberId: this.memberId, epoch: this.epoch });
    }
    if (response.assignment !== null) {
      const mine = response.assignment.topicPartitions
        .filter((t) => t.topicId === this.#options.topicId)
        .flatMap((t) => t.partitions);
      this.#target = [...new Set(mine)].sort((a, b) => a - b);
      this.#reconcile();
    } else if (joining) {
      // A join is answered with an assignment; an empty one, should it be left out.
      this.#target = [];
      this.#reconcile();
    }
    this.#schedule(this.#intervalMs);
  }

  /** Takes the latest assignment in, one at a time; then tells the broker at once. */
  #reconcile(): void {
    if (this.#reconciling || this.#target === null || this.#stopped || this.#frozen) return;
    const target = this.#target;
    const fences = this.#fences;
    this.#target = null;
    this.#reconciling = true;
    this.#options.reconcile(target).then(
      () => {
        this.#reconciling = false;
        if (this.#stopped || this.#frozen) return;
        // Lost meanwhile: it holds nothing of `target`; the answer to its join decides.
        if (fences !== this.#fences) return this.#reconcile();
        const changed = target.join() !== this.#owned.join();
        this.#owned = target;
        if (changed) this.#beat();
        this.#reconcile();
      },
      (error: unknown) => {
        this.#reconciling = false;
        this.#fatal(error);
      },
    );
  }

  /**
   * One ConsumerGroupHeartbeat at `epoch` (0 joins, -1 and -2 leave), with
   * what the member holds. A first join to a broker that assigns member ids
   * itself (version 0) sends none.
   */
  #send(epoch: number): Promise<ConsumerGroupHeartbeatResponse> {
    const { client, topicId } = this.#options;
    const owned = epoch > 0 ? this.#owned : [];
    return client.callCoordinator("ConsumerGroupHeartbeat", (version) => [
      client.group,
      version === 0 && epoch === 0 && !this.#joined ? "" : this.memberId,
      epoch,
      client.instanceId,
      null, // rack id
      this.#options.rebalanceTimeoutMs,
      epoch < 0 ? [] : [client.topic],
      null, // subscribed topic regex
      this.#options.serverAssignor,
      owned.length === 0 ? [] : [{ topicId, partitions: owned }],
    ]);
  }

  async #failed(error: unknown): Promise<void> {
    const ids = errorIds(error);
    const { instanceId } = this.#options.client;
    if (ids.includes(FENCED_INSTANCE) && instanceId !== null) {
      this.#fatal(this.#inUse(instanceId));
      return;
    }
    if (ids.includes(UNRELEASED) && instanceId !== null) {
      // The holder may be this daemon's own previous run, killed before it
      // could leave: its session ends at the broker's session timeout.
      if (!this.#waiting) {
        this.#waiting = true;
        this.#log.warn("the instance id is held by another member; trying again", {
          instanceId,
          retryMs: UNRELEASED_RETRY_MS,
        });
        this.#options.onWaiting(this.#inUse(instanceId));
      }
      this.#schedule(UNRELEASED_RETRY_MS);
      return;
    }
    if (ids.some((id) => LOST.has(id))) {
      this.#log.warn("the group fenced this member: its partitions are lost; joining again", {
        memberId: this.memberId,
        epoch: this.epoch,
        ...errorFields(error),
      });
      this.epoch = 0;
      this.#owned = [];
      this.#target = null;
      this.#fences++;
      try {
        await this.#options.lose();
      } catch (loseError) {
        this.#fatal(loseError);
        return;
      }
      this.#beat();
      return;
    }
    if (isRetriable(error)) {
      this.#failures++;
      if (ids.some((id) => COORDINATOR.has(id)) || ids.length === 0) {
        await this.#options.client.refreshCoordinator();
      }
      const delayMs = Math.round(backoffDelay(this.#failures, BACKOFF));
      this.#log.warn("group heartbeat failed; trying again", {
        attempt: this.#failures,
        delayMs,
        ...errorFields(error),
      });
      this.#schedule(Math.min(delayMs, this.#intervalMs));
      return;
    }
    this.#fatal(unsupported(error) ?? error);
  }

  #inUse(instanceId: string): InstanceIdInUseError {
    return new InstanceIdInUseError(instanceId, {
      group: this.#options.client.group,
      daemon: this.#options.daemonInstanceId,
    });
  }

  #fatal(error: unknown): void {
    if (this.#stopped) return;
    this.#stopped = true;
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#options.onFatal(error);
  }
}

/** A clear error when the brokers do not speak the consumer group protocol, else null. */
function unsupported(error: unknown): Error | null {
  const message = error instanceof Error ? error.message : String(error);
  const ids = errorIds(error);
  if (!/ConsumerGroupHeartbeat/.test(message) && !ids.includes("UNSUPPORTED_VERSION")) return null;
  return new Error(
    "Cannot join with groupProtocol: consumer: the brokers do not serve the consumer group " +
      "protocol (it needs Kafka 4.0 or later, with consumer in " +
      `group.coordinator.rebalance.protocols): ${message}`,
    { cause: error },
  );
}

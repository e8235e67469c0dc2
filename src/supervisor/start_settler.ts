/**
 * The "start settled" rule of resetOffsetOnStart, for the replicas of one
 * consumer in this daemon. Pure: it records what workers report and says
 * which `positions` answers to send.
 *
 * The start settles when every replica has received its first assignment,
 * and, under the consumer protocol (KIP-848), no partition a replica held is
 * on its way to another (`moving`): that protocol moves a partition in two steps, revoked from
 * one member, then assigned to the next at its next heartbeat. The
 * supervisor settles without such a partition once it stayed away for a
 * while (it went to another daemon's member): `expireMoves()`, which
 * measures each partition's time away on its own (a partition that arrives
 * and leaves again starts anew).
 * The partitions the daemon holds at that moment are reset, each exactly
 * once, by whichever replica holds it when it asks; partitions that reach
 * the daemon later are never reset. A reset handed to a replica stays "in
 * flight" until that replica reports it committed (done) or abandoned (its
 * assignment moved on: the reset goes back to pending); a replica that asks
 * for a partition in flight elsewhere waits for that outcome, so no
 * partition is reset twice and none is read before its reset.
 *
 * A reset that goes back to pending may have been applied all the same (its
 * commit landed, the answer was lost, then the assignment moved on or the
 * worker stopped). So the worker reports what it decided before it commits,
 * and the partition's next answer carries that decision: the next start
 * reuses it (`decidedResetStands()`), never deciding a second reset.
 *
 * The settle window is bounded: a partition is reset only if the daemon
 * held it continuously since the start settled. When every replica reads
 * its latest assignment and none is joining or rebalancing, a pending reset
 * whose partition no replica holds has left the daemon (moved to another
 * daemon, or held by a worker that died): it is dropped, and the partition
 * resumes from committed if it ever returns. Under the consumer protocol
 * such a partition may still be on its way to another replica (its next
 * heartbeat brings it), so the start waits for it (`moving`) and the
 * supervisor drops it only once it stayed away for a while: `expireMoves()`.
 * A partition that went to another daemon's member and came back within
 * that while cannot be told from one on its way, and is reset.
 *
 * @module
 */
import type { DecidedReset } from "../offsets/decided_reset.ts";

/** An answer to send: the `positions` message for one replica's assignment. */
export interface PositionsReply {
  replica: number;
  generation: number;
  /** Partitions of that assignment to reset (held when the start settled). */
  resetOnStart: number[];
  /** Resets of some of those partitions decided by an abandoned start, to reuse (absent: none). */
  decided?: DecidedReset[];
}

interface Request {
  generation: number;
  partitions: number[];
}

/** Options for {@linkcode StartSettler}. */
export interface StartSettlerOptions {
  /** How many replicas of this consumer this daemon runs. */
  replicas: number;
  /** Whether this consumer resets on start (resetOffsetOnStart). */
  resetOnStart: boolean;
  /**
   * The group protocol moves a partition in two steps (the consumer
   * protocol): the start then waits for partitions on their way (`moving`).
   * The classic protocol hands every member its whole assignment of a
   * generation at once.
   */
  movesInTwoSteps?: boolean;
  /** The clock partitions' time away is measured with, ms (default: `performance.now()`). */
  now?: () => number;
}

/**
 * Tracks one consumer's start across its replicas.
 *
 * @example
 * ```ts
 * const settler = new StartSettler({ replicas: 2, resetOnStart: true });
 * settler.assigned(0, 1, [0, 1, 2]); // [] — replica 1 has not joined yet
 * settler.assigned(1, 1, [2]);       // answers for both replicas
 * ```
 */
export class StartSettler {
  #replicas: number;
  readonly #resetOnStart: boolean;
  #movesInTwoSteps: boolean;
  readonly #now: () => number;
  /** When each partition the start waits for (see `moving`) was last seen held by no replica. */
  readonly #awaySince = new Map<number, number>();
  /** Latest assignment of each replica (settling needs one from each). */
  readonly #latest = new Map<number, Request>();
  /** Assignments not answered yet. */
  readonly #waiting = new Map<number, Request>();
  /** Latest generation each replica has reported as started. */
  readonly #startedGeneration = new Map<number, number>();
  readonly #pending = new Set<number>();
  readonly #inFlight = new Map<number, { replica: number; generation: number }>();
  /** Resets decided by the replica a partition is (or was) in flight to, until started or dropped. */
  readonly #decided = new Map<number, DecidedReset>();
  /** Replicas whose next assignment is coming (spawned, or rebalancing). */
  readonly #joining = new Set<number>();
  #dropped: number[] = [];
  #settled = false;
  #heldAtStart: number[] = [];
  /** Every partition a replica was assigned before the start settled. */
  readonly #heldBefore = new Set<number>();

  constructor(
    { replicas, resetOnStart, movesInTwoSteps = false, now = () => performance.now() }:
      StartSettlerOptions,
  ) {
    StartSettler.#checkReplicas(replicas);
    this.#replicas = replicas;
    this.#resetOnStart = resetOnStart;
    this.#movesInTwoSteps = movesInTwoSteps;
    this.#now = now;
  }

  /**
   * The group protocol became the consumer protocol (a reload of `kafka:`):
   * partitions may move in two steps from now on. Never undone: workers of
   * that protocol may report until they are drained, and waiting for a
   * partition under the classic protocol costs at most the supervisor's wait.
   */
  expectTwoStepMoves(): void {
    this.#movesInTwoSteps = true;
    this.#trackAway();
  }

  /**
   * The consumer's replicas changed (a reload of `replicas` alone, once the
   * start settled): replicas from `replicas` on are gone for good (their
   * unconfirmed resets go back to pending), new ones are joining. The
   * resets the start still owes go on to whichever replica holds their
   * partition; partitions that reach the daemon later are never reset.
   * The partitions of a replica scaled away reach the others through a
   * rebalance they learn of at their next heartbeat, so from then on a
   * partition held by none is waited for as under the consumer protocol.
   */
  rescale(replicas: number): PositionsReply[] {
    StartSettler.#checkReplicas(replicas);
    if (replicas < this.#replicas) this.#movesInTwoSteps = true;
    for (let replica = replicas; replica < this.#replicas; replica++) {
      this.#release(replica);
      this.#joining.delete(replica);
    }
    for (let replica = this.#replicas; replica < replicas; replica++) this.#joining.add(replica);
    this.#replicas = replicas;
    return this.#answer();
  }

  /** True once the start settled (see the module doc). */
  get settled(): boolean {
    return this.#settled;
  }

  /**
   * True while the start waits only for a partition a replica gave up to
   * reach another replica (the consumer protocol): before the start settled,
   * every replica has an assignment and a partition one of them held is
   * held by none; after, a partition still to reset is held by none while
   * every replica reads its latest assignment.
   */
  get moving(): boolean {
    return this.#onTheirWay().length > 0;
  }

  /**
   * Gives up on partitions on their way (`moving`) that no replica held for
   * `waitMs`: before the start settled, settles without them once every one
   * is that late; after, drops their resets.
   */
  expireMoves(waitMs: number): PositionsReply[] {
    const onTheirWay = this.#onTheirWay();
    if (onTheirWay.length === 0) return [];
    const since = this.#now() - waitMs;
    const late = onTheirWay.filter((p) => (this.#awaySince.get(p) ?? Infinity) <= since);
    if (this.#settled) this.#drop(late);
    else if (late.length === onTheirWay.length) this.#settle();
    return this.#answer();
  }

  /** The partitions held when the start settled (what resetOffsetOnStart resets). */
  get heldAtStart(): readonly number[] {
    return this.#heldAtStart;
  }

  /**
   * True when the start is complete: settled, every reset committed, and
   * every replica reading its latest assignment.
   */
  get ready(): boolean {
    if (!this.#settled || this.#pending.size > 0 || this.#inFlight.size > 0) return false;
    if (this.#joining.size > 0) return false;
    for (const [replica, request] of this.#latest) {
      if (this.#startedGeneration.get(replica) !== request.generation) return false;
    }
    return true;
  }

  /** A replica received an assignment and waits for its answer. */
  assigned(replica: number, generation: number, partitions: readonly number[]): PositionsReply[] {
    this.#checkReplica(replica);
    const request = { generation, partitions: [...partitions] };
    this.#latest.set(replica, request);
    this.#waiting.set(replica, request);
    this.#joining.delete(replica);
    if (!this.#settled) {
      for (const p of partitions) this.#heldBefore.add(p);
      if (this.#latest.size === this.#replicas && !this.moving) this.#settle();
    }
    return this.#answer();
  }

  /**
   * A replica's next assignment is coming: its worker was spawned, or its
   * group is rebalancing. Until it arrives, what the daemon holds is not
   * known, so no pending reset is dropped.
   */
  joining(replica: number): void {
    this.#checkReplica(replica);
    this.#joining.add(replica);
    this.#trackAway();
  }

  /** Pending resets dropped since the last call, because their partition left the daemon. */
  takeDropped(): number[] {
    const dropped = this.#dropped;
    this.#dropped = [];
    return dropped;
  }

  /** A replica reports the resets it decided for an answered assignment, before committing them. */
  decided(replica: number, generation: number, resets: readonly DecidedReset[]): void {
    this.#checkReplica(replica);
    for (const reset of resets) {
      const f = this.#inFlight.get(reset.partition);
      if (f?.replica === replica && f.generation === generation) {
        this.#decided.set(reset.partition, { ...reset });
      }
    }
  }

  /** A replica reports which partitions of an answered assignment it started, and which it abandoned. */
  started(
    replica: number,
    generation: number,
    started: readonly number[],
    abandoned: readonly number[],
  ): PositionsReply[] {
    this.#checkReplica(replica);
    const owns = (p: number) => {
      const f = this.#inFlight.get(p);
      return f !== undefined && f.replica === replica && f.generation === generation;
    };
    for (const p of started) {
      if (!owns(p)) continue;
      this.#inFlight.delete(p);
      this.#decided.delete(p);
    }
    for (const p of abandoned) {
      if (owns(p)) {
        this.#inFlight.delete(p);
        this.#pending.add(p);
      }
    }
    if (this.#latest.get(replica)?.generation === generation) {
      this.#startedGeneration.set(replica, generation);
    }
    return this.#answer();
  }

  /** A replica's worker is gone (crashed, terminated): its unconfirmed resets go back to pending. */
  gone(replica: number): PositionsReply[] {
    this.#checkReplica(replica);
    this.#release(replica);
    // Its replacement joins next: until it has its assignment, a partition
    // of the dead worker may still come back to this daemon.
    this.#joining.add(replica);
    return this.#answer();
  }

  /** Forgets a replica's assignments; its unconfirmed resets go back to pending. */
  #release(replica: number): void {
    for (const [p, f] of this.#inFlight) {
      if (f.replica === replica) {
        this.#inFlight.delete(p);
        this.#pending.add(p);
      }
    }
    this.#waiting.delete(replica);
    this.#startedGeneration.delete(replica);
    this.#latest.delete(replica);
  }

  /**
   * Settles now with the replicas that have joined and the partitions they
   * hold (a replica that never gets an assignment must not block the start
   * forever).
   */
  forceSettle(): PositionsReply[] {
    if (!this.#settled) this.#settle();
    return this.#answer();
  }

  /** The partitions of every replica's latest assignment. */
  #held(): Set<number> {
    const held = new Set<number>();
    for (const request of this.#latest.values()) for (const p of request.partitions) held.add(p);
    return held;
  }

  /**
   * The partitions the start waits for only (see `moving`): before it
   * settled, those a replica held that none holds, once every replica has an
   * assignment; after, the departed ones still to reset. None under the
   * classic protocol.
   */
  #onTheirWay(): number[] {
    if (!this.#movesInTwoSteps) return [];
    if (this.#settled) return this.#departed();
    if (this.#latest.size < this.#replicas) return [];
    const held = this.#held();
    return [...this.#heldBefore].filter((p) => !held.has(p));
  }

  /**
   * Notes since when each partition the start waits for (`moving`) has been
   * away; forgets those that arrived, and all of them while the start does
   * not wait only for them (a replica joining may be the one to get them).
   */
  #trackAway(): void {
    const away = new Set(this.#onTheirWay());
    for (const p of this.#awaySince.keys()) if (!away.has(p)) this.#awaySince.delete(p);
    for (const p of away) if (!this.#awaySince.has(p)) this.#awaySince.set(p, this.#now());
  }

  #settle(): void {
    this.#settled = true;
    const held = this.#held();
    this.#heldAtStart = [...held].sort((a, b) => a - b);
    if (this.#resetOnStart) { for (const p of held) this.#pending.add(p); }
  }

  /**
   * The pending resets whose partition no replica holds while every replica
   * reads its latest assignment and none is joining: none while any of that
   * may still change (see the module doc).
   */
  #departed(): number[] {
    if (this.#pending.size === 0 || this.#joining.size > 0 || this.#inFlight.size > 0) return [];
    if (this.#waiting.size > 0) return [];
    const held = new Set<number>();
    for (const [replica, request] of this.#latest) {
      if (this.#startedGeneration.get(replica) !== request.generation) return [];
      for (const p of request.partitions) held.add(p);
    }
    return [...this.#pending].filter((p) => !held.has(p));
  }

  #drop(partitions: readonly number[]): void {
    for (const p of partitions) {
      this.#pending.delete(p);
      this.#decided.delete(p);
      this.#dropped.push(p);
    }
  }

  #answer(): PositionsReply[] {
    if (!this.#settled) {
      this.#trackAway();
      return [];
    }
    const replies = this.#replies();
    // Under the consumer protocol a partition held by none may be on its way: see `moving`.
    if (!this.#movesInTwoSteps) this.#drop(this.#departed());
    this.#trackAway();
    return replies;
  }

  #replies(): PositionsReply[] {
    const replies: PositionsReply[] = [];
    for (const [replica, request] of this.#waiting) {
      const blocked = request.partitions.some((p) => {
        const f = this.#inFlight.get(p);
        return f !== undefined && (f.replica !== replica || f.generation !== request.generation);
      });
      if (blocked) continue;
      const reset = request.partitions.filter((p) => this.#pending.has(p));
      for (const p of reset) {
        this.#pending.delete(p);
        this.#inFlight.set(p, { replica, generation: request.generation });
      }
      this.#waiting.delete(replica);
      reset.sort((a, b) => a - b);
      const decided = reset.flatMap((p) => this.#decided.get(p) ?? []);
      replies.push({
        replica,
        generation: request.generation,
        resetOnStart: reset,
        ...(decided.length > 0 ? { decided } : {}),
      });
    }
    return replies;
  }

  static #checkReplicas(replicas: number): void {
    if (!Number.isInteger(replicas) || replicas < 1) {
      throw new RangeError(
        `Cannot settle a start as 'replicas' must be a positive integer: current value is ${replicas}`,
      );
    }
  }

  #checkReplica(replica: number): void {
    if (!Number.isInteger(replica) || replica < 0 || replica >= this.#replicas) {
      throw new RangeError(
        `Cannot track replica ${replica} as replicas are numbered 0..${this.#replicas - 1}`,
      );
    }
  }
}

/**
 * The supervisor ↔ worker protocol: one versioned discriminated union each
 * way. Offsets travel as strings (64-bit), errors as plain data.
 *
 * @module
 */
import type { ConsumerConfig, KafkaConfig } from "./config/types.ts";
import type { ConsumerPlace } from "./config/permission_denial.ts";
import type { StartReason } from "./offsets/start_position.ts";
import type { DecidedReset } from "./offsets/decided_reset.ts";

export type { DecidedReset, StartReason };

/** Bumped whenever a message changes shape. */
export const PROTOCOL_VERSION = 1;

/** An error as plain data: it survives `postMessage`. */
export interface ErrorData {
  name: string;
  message: string;
  /** Whether trying again may succeed (a connection problem, a rebalance). */
  retriable: boolean;
  stack?: string;
}

/** One partition's progress, as a worker reports it. */
export interface PartitionProgress {
  partition: number;
  /** Offset of the last message whose handler finished, or null. */
  processed: string | null;
  /** Last committed offset (the next to read), or null. */
  committed: string | null;
  /** The partition's high watermark at the last fetch (or from the broker when none came lately), or null. */
  highWatermark: string | null;
  /**
   * `ordering: key` and `none`: the oldest message fetched and not finished
   * (the committed offset cannot pass it), or null when none waits.
   */
  oldestUnfinished?: string | null;
}

/** A key whose message failed every attempt and was not dead-lettered: it waits, its partition goes on. */
export interface PausedKey {
  partition: number;
  /** The key as text, or `0x…` hex when it is not printable UTF-8; null for a message without a key. */
  key: string | null;
  /** The message that failed. */
  offset: string;
  reason: string;
}

/** What a worker with `ordering: key` or `none` has in hand (the `dispatch` report). */
export interface DispatchState {
  /** Handler calls in flight. */
  inFlight: number;
  /** Messages fetched and not finished (waiting or running). */
  buffered: number;
  /** Keys paused after their retries were spent. */
  pausedKeys: number;
  /** The first few of them. */
  paused: PausedKey[];
}

/**
 * Upper bounds (seconds) of the handler-duration histogram's buckets; the
 * worker counts into them, the supervisor exposes them (`+Inf` is implied).
 */
export const HANDLER_DURATION_BUCKETS: readonly number[] = [
  0.0005,
  0.001,
  0.005,
  0.01,
  0.05,
  0.1,
  0.5,
  1,
  5,
  30,
];

/**
 * Upper bounds (seconds) of the transaction-duration histogram's buckets
 * (`delivery: exactly-once`: the outputs, the offsets and EndTxn of one
 * commit); `+Inf` is implied.
 */
export const TRANSACTION_DURATION_BUCKETS: readonly number[] = [
  0.005,
  0.01,
  0.025,
  0.05,
  0.1,
  0.25,
  0.5,
  1,
  2.5,
  5,
  10,
];

/** A histogram as workers count it: count per bucket plus one for +Inf (not cumulative), sum in seconds, count. */
export interface HistogramCounts {
  buckets: number[];
  sum: number;
  count: number;
}

/** What a worker produced to one topic (outputs and dead-letter copies). */
export interface TopicProduced {
  /** Records the broker acknowledged (exactly-once: whose transaction committed). */
  messages: number;
  /** Their key, value and header bytes (see `recordBytes`). */
  bytes: number;
  /** Records that failed to be written (exactly-once: whose transaction failed). */
  errors: number;
}

/** A worker's cumulative counters since it started (the `stats` report). */
export interface WorkerStats {
  /** Messages whose handler finished (or that were dead-lettered). */
  processed: number;
  /** Handler calls that threw (every attempt counts). */
  handlerErrors: number;
  /** Handler calls that were attempts after a failure. */
  retries: number;
  /** Assignments received (the first one included). */
  rebalances: number;
  /**
   * Messages not handled again at a start because the commit it started
   * from lists them as finished (`ordering: key` and `none`).
   */
  finishedBefore: number;
  /** Finished offsets a commit's metadata could not list (too many to fit). */
  metadataDropped: number;
  /** Handler call durations: count per bucket of {@linkcode HANDLER_DURATION_BUCKETS} plus one for +Inf (not cumulative), their sum in seconds and their count. */
  duration: HistogramCounts;
  /** Per topic produced to: outputs of `ctx.produce()` and dead-letter copies. */
  produced: Record<string, TopicProduced>;
  /** `delivery: exactly-once`: transactions ended, and how long each took (buckets of {@linkcode TRANSACTION_DURATION_BUCKETS}). */
  transactions: { committed: number; aborted: number; duration: HistogramCounts };
}

/** Where a consumer's fields are written in the config, for errors in the operator's terms. */
export interface ConfigSource {
  /** The config file's name as the operator wrote it (e.g. `consumers.yaml`). */
  file: string;
  topicLine: number | null;
  handlerLine: number | null;
  /** The consumer's index, entry line and permission lists: a permission denial names the key that grants it. */
  place?: ConsumerPlace;
  /** The directory of the handler's package.json (null: none): a missing package says where to install it. */
  projectRoot?: string | null;
}

/** Supervisor → worker. */
export type SupervisorMessage =
  | {
    v: typeof PROTOCOL_VERSION;
    type: "start";
    consumer: ConsumerConfig;
    kafka: KafkaConfig;
    /** 0-based replica index within this consumer. */
    replica: number;
    /**
     * True when restarting after a crash (for logs): resets are decided by
     * the supervisor's start settling, never by the worker itself.
     */
    recovery: boolean;
    heartbeatIntervalMs: number;
    logFormat: "json" | "pretty";
    /** Where this consumer is defined, so that errors can point at it. */
    source?: ConfigSource;
  }
  | {
    v: typeof PROTOCOL_VERSION;
    type: "positions";
    /** The assignment generation this answers (from the worker's `assigned`). */
    generation: number;
    /** Partitions held when this consumer's start settled: reset them (resetOffsetOnStart). */
    resetOnStart: number[];
    /**
     * Resets of some of those partitions decided by an earlier start that
     * was abandoned (maybe applied): reused, never decided again (see
     * `decidedResetStands()`). Absent: none.
     */
    decided?: DecidedReset[];
  }
  | {
    v: typeof PROTOCOL_VERSION;
    type: "stop";
    deadlineMs: number;
    /**
     * Leave the group. False on daemon shutdown: a static member then stays
     * in the group (its next run takes its partitions back); a dynamic one
     * leaves anyway.
     */
    leave: boolean;
  };

/** Where one partition started, and why. */
export interface PartitionStart {
  partition: number;
  offset: string;
  reason: StartReason;
}

/** Worker → supervisor. */
export type WorkerMessage =
  | {
    v: typeof PROTOCOL_VERSION;
    /** The handler module was imported and its setup() finished: the start-up deadline no longer applies. */
    type: "loaded";
  }
  | { v: typeof PROTOCOL_VERSION; type: "ready" }
  | {
    v: typeof PROTOCOL_VERSION;
    type: "assigned";
    /** Increases with every assignment this worker receives. */
    generation: number;
    partitions: number[];
    /** True when the worker waits for `positions` before reading these partitions. */
    awaitingPositions: boolean;
    /** The worker's group member id (balanced mode), so the supervisor can evict it if the worker dies. */
    memberId?: string;
  }
  | {
    v: typeof PROTOCOL_VERSION;
    /**
     * The resets an answered assignment's start decided, posted before their
     * commit: should the start be abandoned, the partition's next start
     * reuses them.
     */
    type: "decided";
    generation: number;
    resets: DecidedReset[];
  }
  | {
    v: typeof PROTOCOL_VERSION;
    type: "started";
    generation: number;
    /** Partitions whose start position was committed and which are now read. */
    started: PartitionStart[];
    /** Partitions of a `positions` answer that were not started (the assignment moved on). */
    abandoned: number[];
  }
  | {
    v: typeof PROTOCOL_VERSION;
    type: "deadLettered";
    /** Messages copied to the dead-letter topic after their retries were spent. */
    count: number;
  }
  | {
    v: typeof PROTOCOL_VERSION;
    type: "reset";
    /** A committed offset fell out of range while reading; kafkajs moved to autoOffsetReset. */
    partition: number;
  }
  | { v: typeof PROTOCOL_VERSION; type: "revoked"; partitions: number[] }
  | {
    v: typeof PROTOCOL_VERSION;
    /** Who the worker is in its group (balanced mode), when that changed. */
    type: "membership";
    memberId: string;
    /**
     * The group generation (classic protocol) or the member epoch (consumer
     * protocol); null while the join that gave the member id is under way.
     */
    generation: number | null;
  }
  | {
    v: typeof PROTOCOL_VERSION;
    /** The group is rebalancing: a new assignment follows. */
    type: "rebalancing";
  }
  | { v: typeof PROTOCOL_VERSION; type: "offsets"; partitions: PartitionProgress[] }
  | { v: typeof PROTOCOL_VERSION; type: "stats"; stats: WorkerStats }
  | {
    v: typeof PROTOCOL_VERSION;
    /** Calls in flight, buffered messages and paused keys (`ordering: key` and `none`), when they changed. */
    type: "dispatch";
    state: DispatchState;
  }
  | {
    v: typeof PROTOCOL_VERSION;
    type: "heartbeat";
    /** How long the handler now running has run (ms), or null when idle. */
    busyMs: number | null;
  }
  | {
    v: typeof PROTOCOL_VERSION;
    type: "error";
    error: ErrorData;
    fatal: boolean;
    /** The partition paused because its handler failed after retries, if any. */
    partition?: number;
    /** The offset of the message it paused at: the pause is over once it is processed. */
    offset?: string;
  }
  | {
    v: typeof PROTOCOL_VERSION;
    /** Code in the worker (its handler) closed it: nothing more comes, `stopped` neither. */
    type: "closed";
  }
  | {
    v: typeof PROTOCOL_VERSION;
    type: "stopped";
    error: ErrorData | null;
    /** A group member the worker could not take out of its group in time: the supervisor removes it. */
    evict?: string;
  };

/** Converts anything thrown into {@linkcode ErrorData}. */
export function toErrorData(error: unknown, retriable = false): ErrorData {
  if (error instanceof Error) {
    const data: ErrorData = {
      name: error.name,
      message: error.message,
      retriable: (error as { retriable?: boolean }).retriable ?? retriable,
    };
    if (error.stack !== undefined) data.stack = error.stack;
    return data;
  }
  return { name: "Error", message: String(error), retriable };
}

/**
 * An error as status shows it: its message, after its name when the name says more than
 * `Error` (`CommitRejectedError: …`, `TopicNotFound: …`). The same text whether the worker that
 * reported it still runs or has died.
 *
 * @example
 * ```ts
 * errorText({ name: "Error", message: "boom", retriable: false }); // "boom"
 * errorText({ name: "TypeError", message: "x is null", retriable: false }); // "TypeError: x is null"
 * ```
 */
export function errorText(error: ErrorData): string {
  return error.name === "" || error.name === "Error"
    ? error.message
    : `${error.name}: ${error.message}`;
}

// A record over the union's tags: the compiler insists that every type is listed.
const WORKER_TYPES: Record<WorkerMessage["type"], true> = {
  loaded: true,
  ready: true,
  assigned: true,
  decided: true,
  started: true,
  reset: true,
  deadLettered: true,
  revoked: true,
  membership: true,
  rebalancing: true,
  offsets: true,
  stats: true,
  dispatch: true,
  heartbeat: true,
  error: true,
  closed: true,
  stopped: true,
};
const SUPERVISOR_TYPES: Record<SupervisorMessage["type"], true> = {
  start: true,
  positions: true,
  stop: true,
};

/**
 * Checks that a value received from a worker is a {@linkcode WorkerMessage}
 * of this protocol version.
 *
 * @example
 * ```ts
 * worker.onmessage = (e) => { if (isWorkerMessage(e.data)) handle(e.data); };
 * ```
 */
export function isWorkerMessage(value: unknown): value is WorkerMessage {
  if (typeof value !== "object" || value === null) return false;
  const { v, type } = value as { v?: unknown; type?: unknown };
  return v === PROTOCOL_VERSION && typeof type === "string" && Object.hasOwn(WORKER_TYPES, type);
}

/** Checks that a value received from the supervisor is a {@linkcode SupervisorMessage}. */
export function isSupervisorMessage(value: unknown): value is SupervisorMessage {
  if (typeof value !== "object" || value === null) return false;
  const { v, type } = value as { v?: unknown; type?: unknown };
  return v === PROTOCOL_VERSION && typeof type === "string" &&
    Object.hasOwn(SUPERVISOR_TYPES, type);
}

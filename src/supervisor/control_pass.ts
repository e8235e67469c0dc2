/**
 * The supervisor's periodic control pass: small named checks over each
 * worker slot, in order, each on monotonic time. Pure: it only decides.
 *
 * @module
 */

/** What the control pass needs to know about one worker slot. */
export interface SlotView {
  /** `consumer#replica`. */
  id: string;
  /** No worker is alive in this slot (it was terminated and awaits restart). */
  empty: boolean;
  /** When the slot may start its next worker. */
  restartAt: number;
  /** Why the worker died by itself (uncaught error, fatal error), if it did. */
  dead: string | null;
  lastHeartbeat: number;
  /** When the worker in the slot was started. */
  startedAt: number;
  /** The worker has not finished importing its handler and running setup() yet. */
  loading: boolean;
  /** How long importing and setup() may take (the consumer's startupTimeoutMs). */
  startupTimeoutMs: number;
  /** When the handler now running started, or null. */
  busySince: number | null;
  draining: boolean;
  /** A handler call running this long is stuck (the consumer's handlerTimeoutMs). */
  handlerTimeoutMs: number;
}

/** Limits the checks apply. */
export interface ControlPolicy {
  /** A worker silent this long is hung (busy loop) or gone (closed itself). */
  heartbeatTimeoutMs: number;
  /**
   * How many workers may be loading (importing their client library and
   * handler) at once; slots due to start wait for a place (default: no limit).
   */
  maxLoading?: number;
  /**
   * How long a loading worker holds its place, ms (default 5 s): the
   * CPU-heavy part of loading is over by then, and a worker still loading
   * (a slow or hanging setup()) does not keep others from starting.
   */
  placeMs?: number;
  /**
   * When the supervisor's own loop stood still (a long synchronous call, a
   * starved or paused process). What workers sent meanwhile sat unread in
   * its queue, so that time does not count toward a worker's silence, its
   * handler's run or its start-up.
   */
  stalls?: readonly Stall[];
}

/** A stretch of time, `[from, to]`, in which the supervisor's loop stood still. */
export type Stall = readonly [from: number, to: number];

/**
 * The least time between two control passes that counts as the loop having
 * stood still (a long synchronous call, a starved or stopped process; on
 * Bun, 50 workers loading @platformatic/kafka at once have held it for 4–6 s,
 * after which healthy workers were restarted for heartbeats that sat unread
 * in its queue). With a longer interval, four intervals.
 */
export const STOOD_STILL_MS = 1_000;

/**
 * The stall a control pass at `now` shows after the last one at `last`, or
 * null: a gap longer than {@linkcode STOOD_STILL_MS} (and four intervals)
 * means the loop stood still; the first `intervalMs` of it is the wait the
 * loop makes anyway, in which workers' messages were read.
 *
 * @example
 * ```ts
 * stallOf(10_000, 13_000, { intervalMs: 500 }); // [10_500, 13_000]
 * ```
 */
export function stallOf(
  last: number,
  now: number,
  { intervalMs }: { intervalMs: number },
): Stall | null {
  if (now - last <= Math.max(STOOD_STILL_MS, 4 * intervalMs)) return null;
  return [last + intervalMs, now];
}

/** What the supervisor must do to a slot. */
export type ControlAction =
  | { kind: "terminate"; id: string; reason: string }
  | { kind: "start"; id: string };

type Check = (slot: SlotView, now: number, policy: ControlPolicy) => ControlAction | null;

/** Time from `from` to `now`, less the part of it the supervisor's loop stood still. */
function elapsed(from: number, now: number, policy: ControlPolicy): number {
  let stalled = 0;
  for (const [a, b] of policy.stalls ?? []) {
    stalled += Math.max(0, Math.min(b, now) - Math.max(a, from));
  }
  return now - from - stalled;
}

/** The checks, in the order they run; the first that acts wins for a slot. */
export const CHECKS: ReadonlyArray<readonly [string, Check]> = [
  [
    "restartWhenDue",
    (s, now) => s.empty && now >= s.restartAt ? { kind: "start", id: s.id } : null,
  ],
  [
    "terminateIfDead",
    (s) => !s.empty && s.dead !== null ? { kind: "terminate", id: s.id, reason: s.dead } : null,
  ],
  [
    "terminateIfStartupLate",
    (s, now, p) =>
      !s.empty && !s.draining && s.loading && elapsed(s.startedAt, now, p) > s.startupTimeoutMs
        ? {
          kind: "terminate",
          id: s.id,
          reason: `handler import and setup() still running after ${
            Math.round(now - s.startedAt)
          } ms (startupTimeoutMs ${s.startupTimeoutMs})`,
        }
        : null,
  ],
  [
    "terminateIfSilent",
    (s, now, p) =>
      // While loading, the start-up deadline applies instead: importing a
      // client library blocks a worker's thread for seconds when many start.
      !s.empty && !s.draining && !s.loading &&
        elapsed(s.lastHeartbeat, now, p) > p.heartbeatTimeoutMs
        ? {
          kind: "terminate",
          id: s.id,
          reason: `no heartbeat for ${elapsed(s.lastHeartbeat, now, p)} ms`,
        }
        : null,
  ],
  [
    "terminateIfStuck",
    (s, now, p) =>
      !s.empty && !s.draining && s.busySince !== null &&
        elapsed(s.busySince, now, p) > s.handlerTimeoutMs
        ? { kind: "terminate", id: s.id, reason: `handler running for ${now - s.busySince} ms` }
        : null,
  ],
];

/**
 * Runs every check over every slot. Starts are limited to the places left
 * under `policy.maxLoading` (a worker loading for `policy.placeMs` gives its
 * place up), in slot order: the others wait for a later pass.
 *
 * @example
 * ```ts
 * const actions = controlPass(slots, performance.now(), { heartbeatTimeoutMs: 10_000 });
 * ```
 */
export function controlPass(
  slots: readonly SlotView[],
  now: number,
  policy: ControlPolicy,
): ControlAction[] {
  const actions: ControlAction[] = [];
  const placeMs = policy.placeMs ?? 5_000;
  let places = (policy.maxLoading ?? Infinity) -
    slots.filter((s) => !s.empty && s.loading && now - s.startedAt < placeMs).length;
  for (const slot of slots) {
    for (const [, check] of CHECKS) {
      const action = check(slot, now, policy);
      if (!action) continue;
      if (action.kind === "start") {
        if (places <= 0) break;
        places--;
      }
      actions.push(action);
      break;
    }
  }
  return actions;
}

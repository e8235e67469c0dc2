/**
 * Stops kafkajs's idle request-queue timers. kafkajs 2.2.4 re-arms a timer
 * after every request-queue check even when no request waits: its delay is
 * then `-1 − Date.now()`, which timers treat as 1 ms, so every idle broker
 * connection runs a check a millisecond, forever (kafkajs issues #1556,
 * #1704, #1751). A worker holds three or four connections: an idle consumer
 * burnt about 6 % of a core, and 50 starting workers spent most of their
 * CPU on it.
 *
 * The replacement schedules a check only when a request waits — for the
 * end of a client-side throttle, or 10 ms when it waits for an in-flight
 * slot (kafkajs's own interval). A request that cannot go out at once is
 * queued by `push()`, which schedules the check; a finished request checks
 * the queue itself. So nothing that waits is left unchecked.
 *
 * It also slows each connection's sweep for requests past their timeout:
 * kafkajs sweeps every 100 ms, forever, so that an idle worker woke 20–30
 * times a second for it; the sweep here runs every tenth of the timeout,
 * between 100 ms and 1 s (a request times out at most that late: 1 s on
 * the default 30 s).
 *
 * @module
 */
import RequestQueue from "kafkajs/src/network/requestQueue/index.js";

/** The request queue's fields that scheduling reads. */
interface QueueState {
  pending: unknown[];
  throttledUntil: number;
  throttleCheckTimeoutId: ReturnType<typeof setTimeout> | null;
  checkPendingRequests(): void;
  enforceRequestTimeout: boolean;
  requestTimeout: number;
  requestTimeoutIntervalId: ReturnType<typeof setInterval> | undefined;
  inflight: Map<unknown, { sentAt: number; requestTimeout: number; timeoutRequest(): void }>;
  isConnected(): boolean;
  destroy(): void;
}

/** kafkajs's recheck interval while a request waits for an in-flight slot, ms. */
const WAITING_RECHECK_MS = 10;

/**
 * When the next queue check is due, ms from now; null: none is needed.
 *
 * @example
 * ```ts
 * nextCheckDelay(0, -1, 1_000); // null: nothing waits
 * nextCheckDelay(2, 1_250, 1_000); // 250: the throttle ends then
 * ```
 */
export function nextCheckDelay(
  pending: number,
  throttledUntil: number,
  now: number,
): number | null {
  if (pending === 0) return null;
  const throttledFor = throttledUntil - now;
  return throttledFor > 0 ? throttledFor : WAITING_RECHECK_MS;
}

function scheduleCheckPendingRequests(this: QueueState): void {
  if (this.throttleCheckTimeoutId) return;
  const delay = nextCheckDelay(this.pending.length, this.throttledUntil, Date.now());
  if (delay === null) return;
  this.throttleCheckTimeoutId = setTimeout(() => {
    this.throttleCheckTimeoutId = null;
    this.checkPendingRequests();
  }, delay);
}

/**
 * How often a connection looks for requests past their timeout, ms: a
 * tenth of the timeout, at least 100 ms (or the timeout, when shorter) and
 * at most 1 s.
 *
 * @example
 * ```ts
 * timeoutSweepMs(30_000); // 1000
 * timeoutSweepMs(2_000); // 200
 * ```
 */
export function timeoutSweepMs(requestTimeout: number): number {
  return Math.max(Math.min(requestTimeout / 10, 1_000), Math.min(requestTimeout, 100));
}

function scheduleRequestTimeoutCheck(this: QueueState): void {
  if (!this.enforceRequestTimeout) return;
  this.destroy();
  this.requestTimeoutIntervalId = setInterval(() => {
    const now = Date.now();
    for (const request of this.inflight.values()) {
      if (now - request.sentAt > request.requestTimeout) request.timeoutRequest();
    }
    // A closed connection's queue stops sweeping.
    if (!this.isConnected()) this.destroy();
  }, timeoutSweepMs(this.requestTimeout));
}

const prototype = (RequestQueue as unknown as { prototype: Record<string, unknown> }).prototype;
for (const method of ["scheduleCheckPendingRequests", "scheduleRequestTimeoutCheck", "destroy"]) {
  if (typeof prototype[method] !== "function") {
    throw new Error(
      `the installed kafkajs has no RequestQueue.${method}: consumerd expects kafkajs 2.2.4`,
    );
  }
}
prototype.scheduleCheckPendingRequests = scheduleCheckPendingRequests;
prototype.scheduleRequestTimeoutCheck = scheduleRequestTimeoutCheck;

/** Whether kafkajs's request queue runs the replacements above. */
export function idleQueueFixed(): boolean {
  return prototype.scheduleCheckPendingRequests === scheduleCheckPendingRequests &&
    prototype.scheduleRequestTimeoutCheck === scheduleRequestTimeoutCheck;
}

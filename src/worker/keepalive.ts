/**
 * Keeping the group membership alive while handlers run: Kafka expels a
 * member that stops heartbeating for the session timeout, however healthy
 * its handler is, and kafkajs heartbeats only when asked. A handler call
 * longer than the session timeout must not cost the partition.
 *
 * @module
 */
import { heartbeatFailure } from "../kafka/session.ts";

/**
 * Heartbeats every `everyMs` (and whenever {@linkcode Keepalive.beat} is
 * called) until {@linkcode Keepalive.stop}.
 *
 * A heartbeat that says the group is rebalancing is kept in
 * {@linkcode Keepalive.error} and heartbeating goes on: a member that has
 * not rejoined yet stays in the group only while it heartbeats, and the
 * call in progress must finish (a call is never abandoned half-way) before
 * the batch ends and the client rejoins. A heartbeat that says the member
 * is gone stops them. Passing errors (a timeout) are tried again.
 *
 * @example
 * ```ts
 * const keepalive = new Keepalive(() => batch.heartbeat(), 1000);
 * try {
 *   await handle(message);
 *   if (keepalive.error !== null) throw keepalive.error; // end the batch: the client rejoins
 * } finally {
 *   keepalive.stop();
 * }
 * ```
 */
export class Keepalive {
  /** The first heartbeat error that ends the batch (rebalancing, or the member is gone), or null. */
  error: unknown = null;
  readonly #heartbeat: () => Promise<void>;
  #beating: Promise<void> | null = null;
  #stopped = false;
  #timer: ReturnType<typeof setInterval>;

  constructor(heartbeat: () => Promise<void>, everyMs: number) {
    if (!(everyMs > 0)) {
      throw new RangeError(
        `Cannot keep alive as 'everyMs' must be positive: current value is ${everyMs}`,
      );
    }
    this.#heartbeat = heartbeat;
    this.#timer = setInterval(() => void this.beat(), everyMs);
  }

  /** Heartbeats now (once at a time); resolves when done, never rejects. */
  beat(): Promise<void> {
    if (this.#stopped) return Promise.resolve();
    this.#beating ??= this.#heartbeat().then(
      () => {},
      (error: unknown) => {
        const failure = heartbeatFailure(error);
        if (failure === "transient") return;
        this.error ??= error;
        if (failure === "gone") this.stop();
      },
    ).finally(() => (this.#beating = null));
    return this.#beating;
  }

  /** Stops heartbeating. */
  stop(): void {
    this.#stopped = true;
    clearInterval(this.#timer);
  }
}

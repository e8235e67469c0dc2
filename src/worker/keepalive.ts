/**
 * Keeping the group membership alive while handlers run: Kafka expels a
 * member that stops heartbeating for the session timeout, however healthy
 * its handler is, and kafkajs heartbeats only when asked. A handler call
 * longer than the session timeout must not cost the partition.
 *
 * @module
 */

/**
 * Calls `heartbeat` every `everyMs` until {@linkcode Keepalive.stop}; the
 * first heartbeat that fails (typically: the group is rebalancing) stops
 * them and is kept in {@linkcode Keepalive.error}, for the caller to act on
 * once the handler call in progress has finished (a call is never abandoned
 * half-way).
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
  /** The first heartbeat failure, or null. */
  error: unknown = null;
  #beating = false;
  #timer: ReturnType<typeof setInterval>;

  constructor(heartbeat: () => Promise<void>, everyMs: number) {
    if (!(everyMs > 0)) {
      throw new RangeError(
        `Cannot keep alive as 'everyMs' must be positive: current value is ${everyMs}`,
      );
    }
    this.#timer = setInterval(() => {
      if (this.#beating) return;
      this.#beating = true;
      heartbeat().then(
        () => (this.#beating = false),
        (error: unknown) => {
          this.error = error ?? new Error("heartbeat failed");
          this.stop();
        },
      );
    }, everyMs);
  }

  /** Stops heartbeating. */
  stop(): void {
    clearInterval(this.#timer);
  }
}

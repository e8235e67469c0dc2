/**
 * `POST /reload` runs at most one reload and queues at most one more: a
 * request that arrives while one runs and another waits joins the waiting
 * one and answers with its outcome. That reload starts after the request
 * arrived, so it reads the file as the caller left it; and however many
 * requests come, no more than two reloads (and their handler probes) are
 * under way because of them.
 *
 * @module
 */

/**
 * Wraps `reload` so that calls share a running or waiting reload as above.
 *
 * @example
 * ```ts
 * const reload = coalesceReloads(() => supervisor.reload("http"));
 * await Promise.all([reload(), reload(), reload()]); // two reloads: the first, and one for both others
 * ```
 */
export function coalesceReloads<T>(reload: () => Promise<T>): () => Promise<T> {
  let running: Promise<T> | null = null;
  let waiting: Promise<T> | null = null;
  const start = (): Promise<T> => {
    const run: Promise<T> = Promise.resolve().then(reload).finally(() => {
      if (running === run) running = null;
    });
    running = run;
    return run;
  };
  return () => {
    if (waiting !== null) return waiting;
    if (running === null) return start();
    const next = running.then(() => {}, () => {}).then(() => {
      waiting = null;
      return start();
    });
    waiting = next;
    return next;
  };
}

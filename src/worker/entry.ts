/**
 * The Web Worker entry: one consumer replica per worker. It waits for a
 * `start` message, runs the loop, and on `stop` drains and closes itself.
 *
 * @module
 */
import { isSupervisorMessage, toErrorData, type WorkerMessage } from "../protocol.ts";
import { startWorkerLoop, type WorkerLoop } from "./loop.ts";
import { takeCollect } from "../runtime/collect.ts";

declare const self: {
  onmessage: ((event: MessageEvent) => void) | null;
  postMessage(message: WorkerMessage): void;
  /** Missing in Bun's workers: the supervisor terminates a stopped worker anyway. */
  close?(): void;
};

const post = (message: WorkerMessage) => self.postMessage(message);
/**
 * Closes this worker. A handler that calls `close()` itself is announced
 * first: Deno tells the supervisor nothing of a worker that closed, which
 * would otherwise wait for its heartbeat to go missing (a drain too).
 */
const close = self.close?.bind(self);
if (close !== undefined) {
  self.close = () => {
    post({ v: 1, type: "closed" });
    close();
  };
}
/** V8's `gc` (or Bun's), taken off the global before any handler code loads. */
const collect = takeCollect(globalThis as unknown as Record<string, unknown>);
let loop: Promise<WorkerLoop> | null = null;
let stopping = false;

self.onmessage = (event: MessageEvent) => {
  const message = event.data;
  if (!isSupervisorMessage(message)) return;
  switch (message.type) {
    case "start":
      if (loop !== null) return;
      loop = startWorkerLoop(message, post, { collect });
      loop.catch((error) => post({ v: 1, type: "error", error: toErrorData(error), fatal: true }));
      return;
    case "positions":
      void loop?.then((l) =>
        l.positions(message.generation, message.resetOnStart, message.decided)
      );
      return;
    case "stop":
      // Stopped once, whoever asks again.
      if (stopping) return;
      stopping = true;
      // A loop that failed to start (its handler did not load) holds no partitions and no
      // offsets: it stops cleanly (its failure was reported when it happened).
      (loop ?? Promise.resolve(null)).catch(() => null)
        .then((l) => l?.stop(message.deadlineMs, { leave: message.leave }))
        .then(
          (result) =>
            post({
              v: 1,
              type: "stopped",
              error: null,
              ...(result?.evict ? { evict: result.evict } : {}),
            }),
          (error) => post({ v: 1, type: "stopped", error: toErrorData(error) }),
        )
        .finally(() => close?.());
  }
};

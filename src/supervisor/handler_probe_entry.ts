/**
 * The Web Worker entry of a handler probe: checks one handler module the way
 * `check` does (exists, loads, exports a default function or `handleBatch`)
 * and posts why it cannot be used (with the permission it was denied, if
 * that was it), or `null`. A fresh worker has a fresh
 * module graph, so it reads the module as it is on disk now, never a copy
 * an earlier import cached.
 *
 * @module
 */
import { handlerFailure } from "../config/handler.ts";
import { takeCollect } from "../runtime/collect.ts";

// The handler sees the global a consumer's worker gives it: no V8 `gc`.
takeCollect(globalThis as unknown as Record<string, unknown>);

declare const self: {
  onmessage: ((event: MessageEvent) => void) | null;
  postMessage(message: unknown): void;
  close(): void;
};

self.onmessage = async (event: MessageEvent) => {
  const { path, timeoutMs, timeoutName, ordering } = event.data as {
    path: string;
    timeoutMs: number;
    timeoutName?: string;
    ordering?: "partition" | "key" | "none";
  };
  const failure = await handlerFailure(path, { timeoutMs, timeoutName, ordering });
  self.postMessage({ failure: failure ?? null });
  self.close();
};

/**
 * Checks a handler module in a throwaway worker, as a reload must: the
 * daemon's own module cache would hide an edit, and a handler's top-level
 * code should not run with the daemon's permissions.
 *
 * @module
 */
import { dirname, join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { HANDLER_IMPORT_TIMEOUT_MS } from "../config/handler.ts";
import type { Runtime } from "../runtime/types.ts";

/** Extra time for the worker itself to start, beyond the import's own deadline. */
const WORKER_BOOT_MS = 5000;

const ENTRY = new URL("./handler_probe_entry.ts", import.meta.url);
const RUNTIME_DIR = dirname(fileURLToPath(new URL("../", import.meta.url)));

/**
 * What is wrong with the handler module at `path` (absolute), or `undefined`
 * when it loads and exports a default function or `handleBatch`. The module
 * is imported in a new worker that may read the runtime, `node_modules`, the
 * handler's directory and the environment, and nothing else.
 *
 * @example
 * ```ts
 * await probeHandler(runtime, "/srv/workers/audit.ts"); // undefined when it is fine
 * ```
 */
export function probeHandler(
  runtime: Runtime,
  path: string,
  { timeoutMs = HANDLER_IMPORT_TIMEOUT_MS }: { timeoutMs?: number } = {},
): Promise<string | undefined> {
  const worker = runtime.spawnWorker(ENTRY, {
    name: `handler-probe ${path}`,
    permissions: {
      net: [],
      read: [RUNTIME_DIR, join(dirname(RUNTIME_DIR), "node_modules"), dirname(path)],
      write: [],
      env: Object.keys(process.env),
    },
  });
  let timer: ReturnType<typeof setTimeout> | undefined;
  return new Promise<string | undefined>((resolve) => {
    timer = setTimeout(() => {
      resolve(
        `handler module ${path} failed to load: it did not finish loading within ${timeoutMs} ms`,
      );
    }, timeoutMs + WORKER_BOOT_MS);
    worker.onmessage = (event: MessageEvent) => {
      const { problem } = event.data as { problem: string | null };
      resolve(problem ?? undefined);
    };
    worker.onerror = (event: ErrorEvent) => {
      event.preventDefault();
      resolve(`handler module ${path} failed to load: ${event.message}`);
    };
    worker.postMessage({ path, timeoutMs });
  }).finally(() => {
    clearTimeout(timer);
    worker.terminate();
  });
}

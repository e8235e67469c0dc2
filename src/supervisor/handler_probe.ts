/**
 * Checks a handler module in a throwaway worker, as a reload must: the
 * daemon's own module cache would hide an edit, and a handler's top-level
 * code must see no more than its worker will: the probe runs with exactly
 * the permissions {@linkcode workerPermissions} gives that consumer's
 * workers (a thrown message lands in logs and status, so it must not carry
 * what the worker could not read).
 *
 * @module
 */
import {
  failureProblem,
  HANDLER_IMPORT_TIMEOUT_MS,
  type HandlerDeadline,
  type HandlerFailure,
  handlerFileProblem,
  lateProblem,
} from "../config/handler.ts";
import type { HandlerCheck } from "../config/load.ts";
import type { Runtime, WorkerPermissions } from "../runtime/types.ts";
import { stableJson } from "./fingerprint.ts";
import { handlerProject } from "../config/handler_project.ts";
import { PACKAGE_LOCATION } from "./package_location.ts";
import { workerPermissions } from "./permissions.ts";

/** Extra time for the worker itself to start, beyond the import's own deadline. */
const WORKER_BOOT_MS = 5000;

/**
 * The probe's worker entry. Named through its directory: a compiled
 * executable embeds it as `supervisor/handler_probe_entry.js`, which
 * `embeddedWorkerEntry` finds by the URL's last directory and file name.
 */
const ENTRY = new URL("../supervisor/handler_probe_entry.ts", import.meta.url);

/** Options for {@linkcode probeHandler}: the permissions, and how long the import may take. */
export interface ProbeOptions extends HandlerDeadline {
  /** What the probe's worker may touch: the consumer's worker's permissions. */
  permissions: WorkerPermissions;
  /** The consumer's `ordering` (`key` and `none` need a per-message handler). */
  ordering?: "partition" | "key" | "none" | undefined;
}

/**
 * Why the handler module at `path` (absolute) cannot be used, or
 * `undefined` when it loads and exports a default function or
 * `handleBatch`. The module is imported in a new worker with `permissions`
 * and nothing more.
 *
 * @example
 * ```ts
 * const permissions = workerPermissions(consumer, config.kafka, PACKAGE_LOCATION);
 * await probeHandler(runtime, consumer.handler, { permissions }); // undefined when it is fine
 * ```
 */
export function probeHandler(
  runtime: Runtime,
  path: string,
  { permissions, timeoutMs = HANDLER_IMPORT_TIMEOUT_MS, timeoutName, ordering }: ProbeOptions,
): Promise<HandlerFailure | undefined> {
  const worker = runtime.spawnWorker(ENTRY, { name: `handler-probe ${path}`, permissions });
  let timer: ReturnType<typeof setTimeout> | undefined;
  const failed = (problem: string): HandlerFailure => ({ problem, denial: null });
  return new Promise<HandlerFailure | undefined>((resolve) => {
    timer = setTimeout(() => {
      resolve(failed(
        `handler module ${path} failed to load: ${lateProblem({ timeoutMs, timeoutName })}`,
      ));
    }, timeoutMs + WORKER_BOOT_MS);
    worker.onmessage = (event: MessageEvent) => {
      const { failure } = event.data as { failure: HandlerFailure | null };
      resolve(failure ?? undefined);
    };
    worker.onerror = (event: ErrorEvent) => {
      event.preventDefault();
      resolve(failed(`handler module ${path} failed to load: ${event.message}`));
    };
    worker.postMessage({ path, timeoutMs, timeoutName, ordering });
  }).finally(() => {
    clearTimeout(timer);
    worker.terminate();
  });
}

/**
 * The daemon's check of a config's handlers (for `loadConfigFile`'s
 * `probeHandler`): each consumer's handler is probed in a worker with that
 * consumer's worker permissions; one probe serves every consumer with the
 * same module, permissions and deadline (a permission it was denied is told
 * in each consumer's terms). A handler whose consumer, or
 * `kafka:`, is invalid is only looked up on disk: what its code may touch is
 * not known, so it does not run (the file's other problems are reported).
 *
 * @example
 * ```ts
 * await loadConfigFile(path, { probeHandler: workerProbe(runtime) });
 * ```
 */
export function workerProbe(
  runtime: Runtime,
  { location = PACKAGE_LOCATION }: { location?: Readonly<typeof PACKAGE_LOCATION> } = {},
): (check: HandlerCheck) => Promise<string | undefined> {
  const probes = new Map<string, Promise<HandlerFailure | undefined>>();
  return async ({ path, timeoutMs, timeoutName, consumer, kafka, place }) => {
    if (consumer === undefined || kafka === undefined) return await handlerFileProblem(path);
    const project = handlerProject(path);
    const permissions = workerPermissions(consumer, kafka, {
      ...location,
      handlerProject: project,
    });
    const { ordering } = consumer;
    const key = stableJson([path, timeoutMs, timeoutName, permissions, ordering]);
    let probe = probes.get(key);
    if (probe === undefined) {
      probe = probeHandler(runtime, path, { permissions, timeoutMs, timeoutName, ordering });
      probes.set(key, probe);
    }
    const failure = await probe;
    // Told per consumer: consumers sharing a probe are told apart by their place.
    return failure === undefined
      ? undefined
      : failureProblem(failure, { place, handler: path, projectRoot: project?.root ?? null });
  };
}

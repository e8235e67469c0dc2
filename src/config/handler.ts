/**
 * Checks that a handler module exists and exports what the worker calls: a
 * default function or a `handleBatch` function. The check imports the module
 * (its top-level code runs), so it lives in the loader, not in parsing.
 *
 * @module
 */
import { stat } from "node:fs/promises";
import { pathToFileURL } from "node:url";

/** Default time a handler module may take to load during the check. */
export const HANDLER_IMPORT_TIMEOUT_MS = 10_000;

/** How long a handler module may take to load, and the setting that says so. */
export interface HandlerDeadline {
  /** Milliseconds (default {@linkcode HANDLER_IMPORT_TIMEOUT_MS}). */
  timeoutMs?: number;
  /** The setting it comes from, named in the problem (e.g. `startupTimeoutMs`). */
  timeoutName?: string | undefined;
}

/**
 * The problem of a module still loading at its deadline.
 *
 * @example
 * ```ts
 * lateProblem({ timeoutMs: 2000, timeoutName: "startupTimeoutMs" });
 * // "it did not finish loading within startupTimeoutMs (2000 ms)"
 * ```
 */
export function lateProblem(
  { timeoutMs = HANDLER_IMPORT_TIMEOUT_MS, timeoutName }: HandlerDeadline,
): string {
  const within = timeoutName === undefined ? `${timeoutMs} ms` : `${timeoutName} (${timeoutMs} ms)`;
  return `it did not finish loading within ${within}`;
}

function firstLine(error: unknown): string {
  const text = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return text.split("\n")[0] ?? text;
}

async function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function describeExports(module: Record<string, unknown>): string {
  const names = Object.keys(module);
  if (names.length === 0) return "no exports";
  return names
    .map((name) => `${name === "default" ? "a default export" : name} (${typeof module[name]})`)
    .join(", ");
}

/**
 * What is wrong with the handler file at `path` (absolute) without running
 * it: missing, a directory or unreadable; `undefined` when it is a file.
 *
 * @example
 * ```ts
 * await handlerFileProblem("/srv/workers/nope.ts"); // "handler file not found: /srv/workers/nope.ts"
 * ```
 */
export async function handlerFileProblem(path: string): Promise<string | undefined> {
  try {
    const info = await stat(path);
    if (!info.isFile()) return `expected the handler to be a file, found a directory: ${path}`;
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    return code === "ENOENT" || code === "ENOTDIR"
      ? `handler file not found: ${path}`
      : `cannot read the handler file ${path}: ${firstLine(error)}`;
  }
  return undefined;
}

/**
 * What keeps a module with these exports from serving a consumer with
 * `ordering`, or undefined: `key` and `none` call the handler once per
 * message, so a module that exports `handleBatch` does not fit.
 *
 * @example
 * ```ts
 * orderingProblem("key", "/srv/workers/bulk.ts", { handleBatch() {} });
 * // "ordering: key needs a per-message handler (a default export); /srv/workers/bulk.ts exports handleBatch …"
 * ```
 */
export function orderingProblem(
  ordering: "partition" | "key" | "none" | undefined,
  path: string,
  module: Record<string, unknown>,
): string | undefined {
  if (ordering === undefined || ordering === "partition") return undefined;
  if (typeof module.handleBatch !== "function") return undefined;
  return `ordering: ${ordering} needs a per-message handler (a default export); ${path} exports ` +
    "handleBatch, which only runs with ordering: partition";
}

/**
 * What is wrong with the handler module at `path` (absolute), or `undefined`
 * when it loads and exports a default function or `handleBatch` (only a
 * default function, without `handleBatch`, for `ordering: key` and `none`).
 *
 * @example
 * ```ts
 * await handlerProblem("/srv/workers/audit.ts"); // undefined when it is fine
 * ```
 */
export async function handlerProblem(
  path: string,
  { timeoutMs = HANDLER_IMPORT_TIMEOUT_MS, timeoutName, ordering }: HandlerDeadline & {
    /** The consumer's `ordering`, when known. */
    ordering?: "partition" | "key" | "none" | undefined;
  } = {},
): Promise<string | undefined> {
  const fileProblem = await handlerFileProblem(path);
  if (fileProblem !== undefined) return fileProblem;
  let module: Record<string, unknown>;
  try {
    module = await withTimeout(
      import(pathToFileURL(path).href) as Promise<Record<string, unknown>>,
      timeoutMs,
      lateProblem({ timeoutMs, timeoutName }),
    );
  } catch (error) {
    return `handler module ${path} failed to load: ${firstLine(error)}`;
  }
  if (typeof module.default === "function" || typeof module.handleBatch === "function") {
    return orderingProblem(ordering, path, module);
  }
  return `expected handler module ${path} to export a default function or a handleBatch ` +
    `function, found ${describeExports(module)}`;
}

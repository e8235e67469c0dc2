/**
 * Checks that a handler module exists and exports what the worker calls: a
 * default function or a `handleBatch` function. The check imports the module
 * (its top-level code runs), so it lives in the loader, not in parsing.
 *
 * @module
 */
import { stat } from "node:fs/promises";
import { dirname } from "node:path";
import { pathToFileURL } from "node:url";
import { missingPackage, missingPackageProblem } from "./handler_packages.ts";
import {
  type ConsumerPlace,
  denialMessage,
  type PermissionDenial,
  permissionDenial,
} from "./permission_denial.ts";

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
 * Why a handler module cannot be used: the problem, and the permission it
 * was denied or the package it could not resolve, if that was it.
 */
export interface HandlerFailure {
  problem: string;
  denial: PermissionDenial | null;
  /** A package specifier the module imports that its project does not have. */
  missing?: string | null;
}

/**
 * Why the handler module at `path` (absolute) cannot be used, or
 * `undefined` when it loads and exports a default function or `handleBatch`
 * (only a default function, without `handleBatch`, for `ordering: key` and
 * `none`).
 *
 * @example
 * ```ts
 * (await handlerFailure("/srv/workers/audit.ts"))?.denial; // { kind: "env", target: "TOKEN" }
 * ```
 */
export async function handlerFailure(
  path: string,
  { timeoutMs = HANDLER_IMPORT_TIMEOUT_MS, timeoutName, ordering }: HandlerDeadline & {
    /** The consumer's `ordering`, when known. */
    ordering?: "partition" | "key" | "none" | undefined;
  } = {},
): Promise<HandlerFailure | undefined> {
  const fileProblem = await handlerFileProblem(path);
  if (fileProblem !== undefined) return { problem: fileProblem, denial: null };
  let module: Record<string, unknown>;
  try {
    module = await withTimeout(
      import(pathToFileURL(path).href) as Promise<Record<string, unknown>>,
      timeoutMs,
      lateProblem({ timeoutMs, timeoutName }),
    );
  } catch (error) {
    return {
      problem: `handler module ${path} failed to load: ${firstLine(error)}`,
      denial: permissionDenial(error),
      missing: missingPackage(error),
    };
  }
  if (typeof module.default === "function" || typeof module.handleBatch === "function") {
    const problem = orderingProblem(ordering, path, module);
    return problem === undefined ? undefined : { problem, denial: null };
  }
  return {
    problem: `expected handler module ${path} to export a default function or a handleBatch ` +
      `function, found ${describeExports(module)}`,
    denial: null,
  };
}

/** What {@linkcode failureProblem} tells a failure with. */
export interface FailureContext {
  /** Where the consumer is written: a permission denial names the key that grants it. */
  place?: ConsumerPlace | undefined;
  /** The handler module: a missing package says where to install it. */
  handler?: string;
  /** The directory of the handler's package.json, or null when it has none. */
  projectRoot?: string | null;
}

/**
 * A {@linkcode HandlerFailure} as the problem to report: a permission
 * denial in the config's terms when the consumer's place is known, a
 * missing package with where to install it when the handler is known.
 */
export function failureProblem(
  failure: HandlerFailure,
  { place, handler, projectRoot = null }: FailureContext = {},
): string {
  if (failure.denial !== null && place !== undefined) return denialMessage(failure.denial, place);
  if (failure.missing && handler !== undefined) {
    return missingPackageProblem(failure.missing, { projectRoot, handlerDir: dirname(handler) });
  }
  return failure.problem;
}

/**
 * What is wrong with the handler module at `path` (absolute), or `undefined`
 * when it loads and exports a default function or `handleBatch`. A
 * permission denial is told in the config's terms when `place` is given.
 *
 * @example
 * ```ts
 * await handlerProblem("/srv/workers/audit.ts"); // undefined when it is fine
 * ```
 */
export async function handlerProblem(
  path: string,
  { place, ...options }: HandlerDeadline & {
    place?: ConsumerPlace | undefined;
    ordering?: "partition" | "key" | "none" | undefined;
  } = {},
): Promise<string | undefined> {
  const failure = await handlerFailure(path, options);
  return failure === undefined ? undefined : failureProblem(failure, { place });
}

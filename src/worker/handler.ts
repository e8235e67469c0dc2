/**
 * Loading a handler module and checking its shape.
 *
 * @module
 */
import { orderingProblem } from "../config/handler.ts";
import type { Message } from "../message.ts";
import type { Context } from "./context.ts";

/** The exports consumerd looks for in a handler module. */
export interface HandlerModule {
  default?: (message: Message, ctx: Context) => unknown;
  handleBatch?: (messages: Message[], ctx: Context) => unknown;
  setup?: (ctx: Context) => unknown;
  teardown?: (ctx: Context) => unknown;
}

/**
 * How a module's messages are handled: one call per message (the default
 * export), or one call per fetched batch of a partition (`handleBatch`).
 */
export type Handler =
  | { kind: "message"; fn: (message: Message, ctx: Context) => unknown }
  | { kind: "batch"; fn: (messages: Message[], ctx: Context) => unknown };

/**
 * Picks the handler of a module: `handleBatch` when exported, else the
 * default export; with `ordering: key` or `none`, only a default export
 * without `handleBatch` fits.
 */
export function handlerOf(
  module: HandlerModule,
  path: string,
  ordering: "partition" | "key" | "none" = "partition",
): Handler {
  const problem = orderingProblem(ordering, path, module as Record<string, unknown>);
  if (problem !== undefined) throw new TypeError(problem);
  if (typeof module.handleBatch === "function") return { kind: "batch", fn: module.handleBatch };
  if (typeof module.default === "function") return { kind: "message", fn: module.default };
  throw new TypeError(
    `Cannot use handler module ${path} as it exports neither a default function nor handleBatch`,
  );
}

/** Imports a handler module by absolute path or file URL. */
export async function importHandlerModule(path: string): Promise<HandlerModule> {
  const url = path.startsWith("file:") ? path : new URL(`file://${path}`).href;
  return await import(url) as HandlerModule;
}

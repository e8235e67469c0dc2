/**
 * The adapter for the runtime this process runs on.
 *
 * @module
 */
import { bunRuntime } from "./bun.ts";
import { denoRuntime } from "./deno.ts";
import type { Runtime } from "./types.ts";

export type { DaemonSignal, Runtime, WorkerPermissions } from "./types.ts";

/** Deno or Bun, detected once. */
export const runtime: Runtime = "Bun" in globalThis ? bunRuntime : denoRuntime;

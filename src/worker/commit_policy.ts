/**
 * When a long batch pauses to hand over finished messages, heartbeat and
 * commit: often enough that `commit.intervalMs` is honoured as written.
 *
 * @module
 */
import type { ConsumerConfig } from "../config/types.ts";

/** The longest a batch goes without handing over what finished. */
export const MAX_TICK_MS = 1000;

/**
 * How often a long batch hands over finished messages and checks whether a
 * commit is due: once a second, or every `intervalMs` in auto mode when
 * that is shorter.
 *
 * @example
 * ```ts
 * tickMs({ mode: "auto", intervalMs: 200 }); // 200
 * tickMs({ mode: "manual", intervalMs: 200 }); // 1000
 * ```
 */
export function tickMs(commit: Pick<ConsumerConfig["commit"], "mode" | "intervalMs">): number {
  return commit.mode === "auto" ? Math.min(MAX_TICK_MS, commit.intervalMs) : MAX_TICK_MS;
}

/**
 * A reset on start that was decided and may have been applied: what a
 * partition's next start does with it when the start that decided it was
 * abandoned (its assignment moved on, or its worker stopped) before it
 * knew whether its commit was applied.
 *
 * @module
 */
import type { StartReason } from "./start_position.ts";

/** A reset decided for one partition, and the committed offset it was decided from. */
export interface DecidedReset {
  partition: number;
  /** The offset the partition is reset to. */
  offset: string;
  /** Why (`reset-on-start`, or `no-committed-offset` / `out-of-range`). */
  reason: StartReason;
  /** The committed offset when it was decided; null when there was none. */
  committed: string | null;
}

/**
 * Whether a decided reset still stands, the partition's committed offset
 * being `committed` now:
 * - `committed` is the decided offset: the reset was applied (its answer may
 *   have been lost): it stands, and is not decided again;
 * - `committed` is what the decision was made from: the reset was not
 *   applied: it stands, and is applied as decided (deciding again would put
 *   a `latest` reset at the new end of the log, past every message that
 *   arrived meanwhile);
 * - anything else: someone moved the committed offset since (another member
 *   read the partition, or `reset-offsets`): their position stands, and the
 *   partition resumes from it as any partition not held at start does.
 *
 * So a partition is reset at most once per start, only ever to the first
 * decision, and never moved back behind a position someone else committed.
 *
 * @example
 * ```ts
 * const decided = { partition: 0, offset: "10", reason: "reset-on-start", committed: "4" } as const;
 * decidedResetStands(decided, "10"); // true: applied
 * decidedResetStands(decided, "4"); // true: not applied yet
 * decidedResetStands(decided, "12"); // false: read on by another member since
 * ```
 */
export function decidedResetStands(decided: DecidedReset, committed: string | null): boolean {
  const now = noneAsNull(committed);
  return now === decided.offset || now === noneAsNull(decided.committed);
}

/** Kafka's "-1" (no committed offset) as null. */
function noneAsNull(committed: string | null): string | null {
  return committed === "-1" ? null : committed;
}

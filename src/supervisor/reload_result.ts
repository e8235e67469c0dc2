/**
 * What a reload reports (the `POST /reload` answer, the log line, the
 * status's `config.lastReload`), and its one-line description. Pure.
 *
 * @module
 */
import type { ConfigIssue } from "../config/error.ts";
import { type ConfigDiff, isReconnect, type RestartReason, type Scale } from "./config_diff.ts";

/** What asked for a reload. */
export type ReloadTrigger = "file" | "SIGHUP" | "http" | "api";

/** The outcome of one reload; plain JSON. */
export interface ReloadResult {
  /** False when the file was invalid (nothing was applied) or applying failed. */
  ok: boolean;
  trigger: ReloadTrigger;
  /** When the reload finished, ISO 8601. */
  at: string;
  /** The config revision now running (incremented by each reload that changed something). */
  revision: number;
  /** Whether anything changed and was applied. */
  applied: boolean;
  added: string[];
  removed: string[];
  /** Drained and started anew (a new start: `resetOffsetOnStart` applies). */
  restarted: string[];
  /**
   * Drained and restarted with the new `kafka:` settings, their own
   * definition unchanged: they resume from committed offsets, nothing is reset.
   */
  reconnected: string[];
  /** Why each restarted consumer was restarted. */
  restartReasons: Record<string, RestartReason[]>;
  scaled: Scale[];
  unchanged: string[];
  kafka: "changed" | "unchanged";
  /** "changed": the status server must rebind to the new `http.listen`. */
  http: "changed" | "unchanged";
  /** Every problem in the file (when `ok` is false), each with file, line and column. */
  errors: ConfigIssue[];
}

/** The part of a {@linkcode ReloadResult} a diff decides. */
export type DiffOutcome = Pick<
  ReloadResult,
  | "added"
  | "removed"
  | "restarted"
  | "reconnected"
  | "restartReasons"
  | "scaled"
  | "unchanged"
  | "kafka"
  | "http"
>;

/**
 * A diff as reload result fields.
 *
 * @example
 * ```ts
 * diffOutcome(diffConfigs(running, next)).restarted; // ["audit"]
 * ```
 */
export function diffOutcome(diff: ConfigDiff): DiffOutcome {
  const restarted = diff.restarted.filter((r) => !isReconnect(r));
  return {
    added: [...diff.added],
    removed: [...diff.removed],
    restarted: restarted.map((r) => r.name),
    reconnected: diff.restarted.filter(isReconnect).map((r) => r.name),
    restartReasons: Object.fromEntries(restarted.map((r) => [r.name, [...r.reasons]])),
    scaled: diff.scaled.map((s) => ({ ...s })),
    unchanged: [...diff.unchanged],
    kafka: diff.kafkaChanged ? "changed" : "unchanged",
    http: diff.httpChanged ? "changed" : "unchanged",
  };
}

/** A result with nothing applied. */
export function emptyOutcome(unchanged: string[]): DiffOutcome {
  return {
    added: [],
    removed: [],
    restarted: [],
    reconnected: [],
    restartReasons: {},
    scaled: [],
    unchanged,
    kafka: "unchanged",
    http: "unchanged",
  };
}

const list = (names: readonly string[]) => names.join(", ");

/**
 * One sentence for people: what was added, removed, restarted (and why),
 * reconnected, scaled and left alone, or why nothing was applied.
 *
 * @example
 * ```ts
 * describeOutcome({ ...diffOutcome(diff), ok: true, applied: true, errors: [] });
 * // "added billing; restarted audit (handler); left alone orders"
 * ```
 */
export function describeOutcome(
  result: DiffOutcome & Pick<ReloadResult, "ok" | "applied" | "errors">,
): string {
  if (!result.ok) {
    const n = result.errors.length;
    return `nothing applied: ${n} problem${n === 1 ? "" : "s"} in the file; ` +
      "every consumer keeps running as before";
  }
  if (!result.applied) return "nothing applied: the file and handlers have no changes";
  const parts: string[] = [];
  if (result.kafka === "changed") parts.push("kafka changed");
  if (result.added.length > 0) parts.push(`added ${list(result.added)}`);
  if (result.removed.length > 0) parts.push(`removed ${list(result.removed)}`);
  if (result.restarted.length > 0) {
    parts.push(
      `restarted ${
        list(result.restarted.map((n) => `${n} (${(result.restartReasons[n] ?? []).join(", ")})`))
      }`,
    );
  }
  if (result.reconnected.length > 0) {
    parts.push(`reconnected ${list(result.reconnected)} (resuming from committed offsets)`);
  }
  for (const s of result.scaled) parts.push(`scaled ${s.name} from ${s.from} to ${s.to} replicas`);
  if (result.http === "changed") parts.push("http changed");
  if (result.unchanged.length > 0) parts.push(`left alone ${list(result.unchanged)}`);
  if (parts.length === 0) parts.push("settings changed; no consumer affected");
  return parts.join("; ");
}

/**
 * `reset-offsets`: the target as the operator writes it, and the plan of
 * which partition moves from where to where. Pure.
 *
 * @module
 */

/** Where to move a group's committed offsets. */
export type ResetTarget =
  | { kind: "earliest" }
  | { kind: "latest" }
  | { kind: "offset"; offset: bigint }
  | { kind: "time"; ms: number; text: string };

/**
 * Parses `--to`: `earliest`, `latest`, an offset, or an ISO 8601 time with a
 * date (`2026-11-29T10:00:00Z`; a time without a zone is UTC). Returns the
 * target or a message saying what is wrong.
 *
 * @example
 * ```ts
 * parseResetTarget("earliest"); // { kind: "earliest" }
 * parseResetTarget("42"); // { kind: "offset", offset: 42n }
 * parseResetTarget("2026-11-29T10:00:00Z"); // { kind: "time", ms: …, text: "…" }
 * ```
 */
export function parseResetTarget(text: string): ResetTarget | string {
  const value = text.trim();
  const lower = value.toLowerCase();
  if (lower === "earliest") return { kind: "earliest" };
  if (lower === "latest") return { kind: "latest" };
  if (/^[0-9]+$/.test(value)) {
    const offset = BigInt(value);
    if (offset > 9223372036854775807n) return `--to ${value} is beyond the largest offset`;
    return { kind: "offset", offset };
  }
  if (/^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?(Z|[+-]\d{2}:?\d{2})?$/i.test(value)) {
    const zoned = /(Z|[+-]\d{2}:?\d{2})$/i.test(value) || !value.includes(":")
      ? value
      : `${value}Z`;
    const ms = Date.parse(zoned.replace(" ", "T"));
    if (!Number.isNaN(ms)) return { kind: "time", ms, text: new Date(ms).toISOString() };
  }
  return `--to must be earliest, latest, an offset or an ISO time (2026-11-29T10:00:00Z), ` +
    `not ${JSON.stringify(text)}`;
}

/** A partition's offsets as the plan needs them. */
export interface PartitionOffsets {
  partition: number;
  /** The group's committed offset, or null. */
  committed: string | null;
  /** Log start offset. */
  low: string;
  /** High watermark. */
  high: string;
  /** For a time target: the first offset at or after the time, or null when there is none. */
  atTime?: string | null;
}

/** One partition's move. */
export interface ResetStep {
  partition: number;
  from: string | null;
  to: string;
  /** Set when the asked position was outside the log and was moved into it. */
  note?: string;
}

/**
 * Plans the reset: the offset each partition moves to, clamped into
 * [log start, high watermark] like Kafka's own tool; a time after the last
 * message means the high watermark.
 */
export function planReset(
  target: ResetTarget,
  partitions: readonly PartitionOffsets[],
): ResetStep[] {
  return partitions.map((p) => {
    const low = BigInt(p.low);
    const high = BigInt(p.high);
    let to: bigint;
    switch (target.kind) {
      case "earliest":
        to = low;
        break;
      case "latest":
        to = high;
        break;
      case "offset":
        to = target.offset;
        break;
      case "time":
        to = p.atTime === null || p.atTime === undefined || BigInt(p.atTime) < 0n
          ? high
          : BigInt(p.atTime);
        break;
    }
    const step: ResetStep = { partition: p.partition, from: p.committed, to: String(to) };
    if (to < low) {
      step.to = String(low);
      step.note = `${to} is before the log start; using ${low}`;
    } else if (to > high) {
      step.to = String(high);
      step.note = `${to} is beyond the high watermark; using ${high}`;
    }
    return step;
  });
}

/**
 * Parses `--partitions 0,2` against the topic's partitions: the list, or a
 * message naming the partitions that do not exist.
 */
export function parsePartitionList(text: string, existing: readonly number[]): number[] | string {
  const parts = text.split(",").map((s) => s.trim()).filter((s) => s !== "");
  if (parts.length === 0 || parts.some((s) => !/^[0-9]+$/.test(s))) {
    return `--partitions must be a comma-separated list of partition numbers, not ${
      JSON.stringify(text)
    }`;
  }
  const wanted = [...new Set(parts.map(Number))].sort((a, b) => a - b);
  const missing = wanted.filter((p) => !existing.includes(p));
  if (missing.length > 0) {
    return `partition${missing.length > 1 ? "s" : ""} ${missing.join(", ")} do${
      missing.length > 1 ? "" : "es"
    } not exist (the topic has ${existing.length}: ${existing.join(", ")})`;
  }
  return wanted;
}

/**
 * The chaos soak's checker: pure functions from what the handler recorded,
 * what the dead-letter topic holds and what the broker reports to the
 * verdict (lost, order violations, duplicates and their causes, committed
 * against the high watermark) and the table the soak prints.
 *
 * Definitions (the README's soak section repeats them):
 *
 * - A **message** is an offset in `[log start, high watermark)` of a
 *   partition at the end of the run. The producer's sequence number in each
 *   value ties it to an acknowledged send.
 * - **Handled**: at least one successful handler call for the offset.
 *   **Dead-lettered**: a copy in the dead-letter topic names the offset in
 *   its `consumerd.source.*` headers. Either counts as done.
 * - **Lost**: a message neither handled nor dead-lettered; also an
 *   acknowledged sequence number that no handled or dead-lettered record
 *   carries. Must be 0.
 * - **Order violation**: per partition, take every delivery (each handler
 *   call, failed and killed ones included) of every worker, in time order.
 *   The offsets delivered for the first time must increase: a first
 *   delivery of an offset below one already delivered means a message was
 *   skipped and came later, or two workers read the partition at once.
 *   Re-deliveries after a fault (an offset delivered before) are
 *   duplicates, not violations. Must be 0.
 * - **Duplicate**: every completion of an offset after its first (a second
 *   successful call, or a dead-letter copy besides a success or another
 *   copy). Each is attributed to the fault that lies between the two
 *   completions: one that hit the worker of the first completion directly
 *   (its own kill, its daemon's SIGKILL or SIGTERM), else a broker outage
 *   overlapping them, else a rebalance after any other fault in between,
 *   else "unexplained".
 * - **Dead-lettered early**: a dead-letter copy without `retry.attempts`
 *   failed calls of its message just before it (e.g. a retry cut short by
 *   a shutdown). A message goes to the dead-letter topic only once its
 *   attempts are spent. Must be 0.
 * - **Committed = HW**: at the end, every partition's committed offset
 *   equals its high watermark.
 *
 * @module
 */
import type { ReadBack } from "../harness/read_topic.ts";

/** One handler call as the soak handler recorded it. */
export interface CallRecord {
  k: "call";
  p: number;
  o: string;
  /** The producer's sequence number (the message's value). */
  s: number;
  /** Worker id: `<daemon incarnation>-<random>`. */
  w: string;
  /** Consecutive calls of this offset in this worker (1 = first). */
  a: number;
  ok: boolean;
  /** Epoch milliseconds (fractional). */
  t: number;
}

/** A worker killing itself inside a call, on the runner's order. */
export interface KillRecord {
  k: "kill";
  p: number;
  o: string;
  s: number;
  w: string;
  a: number;
  mode: string;
  t: number;
}

/**
 * A call told to take long (written when it starts): `slow`, longer than the
 * group's session timeout; `hold`, a call in flight when its daemon is stopped.
 */
export interface SlowRecord {
  k: "slow" | "hold";
  p: number;
  o: string;
  s: number;
  w: string;
  a: number;
  ms: number;
  t: number;
}

/** Anything the soak handler appends. */
export type HandlerRecord = CallRecord | KillRecord | SlowRecord;

/** A copy found in the dead-letter topic. */
export interface DeadLetterCopy {
  partition: number;
  offset: string;
  /** The sequence number in its value, or null if unreadable. */
  seq: number | null;
}

/** A partition at the end of the run, as the broker reports it. */
export interface PartitionEnd {
  partition: number;
  low: string;
  high: string;
  committed: string | null;
}

/** A fault the runner injected, on the epoch-ms clock the handler uses. */
export interface Fault {
  kind: "worker-kill" | "long-call" | "daemon-sigkill" | "daemon-sigterm" | "broker-outage";
  start: number;
  end: number;
  /** worker-kill: the worker that died; long-call: the worker in the call. */
  worker?: string;
  /** daemon-*: the daemon incarnation (e.g. "A1") that was signalled. */
  daemon?: string;
}

/** Everything the checker reads. */
export interface SoakObservation {
  records: HandlerRecord[];
  /** Sequence numbers 0 … produced-1 were acknowledged by the broker. */
  produced: number;
  partitions: PartitionEnd[];
  deadLettered: DeadLetterCopy[];
  faults: Fault[];
  /** `retry.attempts`: a failed call with this attempt number was followed by dead-lettering. */
  attempts: number;
}

/** A first delivery that came after a higher offset's first delivery. */
export interface OrderViolation {
  partition: number;
  offset: string;
  /** The highest offset first-delivered before it. */
  after: string;
  worker: string;
  t: number;
}

/** One partition's line of the report. */
export interface PartitionReport {
  partition: number;
  messages: number;
  handled: number;
  deadLettered: number;
  lost: number;
  duplicates: number;
  highWatermark: string;
  committed: string | null;
}

/** The checker's verdict. */
export interface SoakReport {
  produced: number;
  /** Records in the topic (more than produced when a producer retry wrote one twice). */
  inTopic: number;
  distinctHandled: number;
  deadLettered: number;
  /** Messages (offsets) neither handled nor dead-lettered. */
  lost: Array<{ partition: number; offset: string }>;
  /** Acknowledged sequence numbers never handled nor dead-lettered. */
  lostSeqs: number[];
  orderViolations: OrderViolation[];
  /** Dead-letter copies not preceded by `attempts` failed calls of their message. */
  deadLetteredEarly: DeadLetterCopy[];
  duplicates: number;
  duplicatesByCause: Record<string, number>;
  /** Partitions whose committed offset is not the high watermark. */
  uncommitted: PartitionEnd[];
  calls: number;
  failedCalls: number;
  kills: number;
  longCalls: number;
  partitions: PartitionReport[];
}

/** Parses one record file's text (JSON lines; a torn last line is ignored). */
export function parseRecords(text: string): HandlerRecord[] {
  const records: HandlerRecord[] = [];
  for (const line of text.split("\n")) {
    if (line.trim() === "") continue;
    try {
      records.push(JSON.parse(line) as HandlerRecord);
    } catch { /* a line cut by a kill */ }
  }
  return records;
}

/** The daemon incarnation of a worker id (`A1-1a2b3c4d` → `A1`). */
export function daemonOf(worker: string): string {
  return worker.split("-")[0] ?? worker;
}

const key = (partition: number, offset: string) => `${partition}:${offset}`;

/** Orders deliveries by time; a stable sort keeps one worker's file order on ties. */
function byTime<T extends { t: number }>(items: T[]): T[] {
  return [...items].sort((a, b) => a.t - b.t);
}

/**
 * Order violations: per partition, offsets delivered for the first time
 * (over every worker, in time order) must increase.
 */
export function orderViolations(records: HandlerRecord[]): OrderViolation[] {
  const violations: OrderViolation[] = [];
  const byPartition = new Map<number, HandlerRecord[]>();
  for (const r of records) {
    const list = byPartition.get(r.p) ?? [];
    list.push(r);
    byPartition.set(r.p, list);
  }
  for (const [partition, list] of byPartition) {
    const seen = new Set<string>();
    let max: bigint | null = null;
    for (const r of byTime(list)) {
      if (seen.has(r.o)) continue;
      seen.add(r.o);
      const offset = BigInt(r.o);
      if (max !== null && offset < max) {
        violations.push({ partition, offset: r.o, after: String(max), worker: r.w, t: r.t });
      } else {
        max = offset;
      }
    }
  }
  return violations;
}

/** One completion of a message: a successful call or a dead-letter copy. */
export interface Completion {
  /** When it happened (NaN if unknown). */
  t: number;
  /** The worker that did it ("" if unknown). */
  worker: string;
}

/** The cause of a duplicate completion `again` of a message first completed at `first`. */
export function attribute(first: Completion, again: Completion, faults: Fault[]): string {
  if (Number.isNaN(first.t) || Number.isNaN(again.t)) return "unexplained";
  const between = byTime(
    faults.filter((f) => f.start >= first.t && f.start <= again.t).map((f) => ({
      ...f,
      t: f.start,
    })),
  );
  const direct = between.find((f) =>
    (f.worker !== undefined && f.worker === first.worker) ||
    (f.daemon !== undefined && f.daemon === daemonOf(first.worker))
  );
  if (direct) return direct.kind;
  const outage = faults.find((f) =>
    f.kind === "broker-outage" && f.start <= again.t && f.end >= first.t
  );
  if (outage) return "broker-outage";
  const earliest = between[0];
  return earliest ? `rebalance after ${earliest.kind}` : "unexplained";
}

/**
 * The completions of each message, in time order: successful calls, and
 * dead-letter copies placed at the failed call that gave up (a failed call
 * whose attempt number is `attempts`), when one can be found.
 */
function completions(
  records: HandlerRecord[],
  deadLettered: DeadLetterCopy[],
  attempts: number,
): { done: Map<string, Completion[]>; early: DeadLetterCopy[] } {
  const done = new Map<string, Completion[]>();
  const lastFailures = new Map<string, Completion[]>();
  for (const r of byTime(records)) {
    if (r.k !== "call") continue;
    const k = key(r.p, r.o);
    if (r.ok) {
      const list = done.get(k) ?? [];
      list.push({ t: r.t, worker: r.w });
      done.set(k, list);
    } else if (r.a >= attempts) {
      const list = lastFailures.get(k) ?? [];
      list.push({ t: r.t, worker: r.w });
      lastFailures.set(k, list);
    }
  }
  const early: DeadLetterCopy[] = [];
  for (const copy of deadLettered) {
    const k = key(copy.partition, copy.offset);
    const list = done.get(k) ?? [];
    const gaveUp = lastFailures.get(k)?.shift();
    if (gaveUp === undefined) early.push(copy);
    list.push(gaveUp ?? { t: Number.NaN, worker: "" });
    done.set(k, list);
  }
  for (const list of done.values()) list.sort((a, b) => a.t - b.t);
  return { done, early };
}

/**
 * A dead-letter copy's source partition and offset (consumerd's headers)
 * and the sequence number in its value; none for a record without them.
 */
export function deadLetterCopy(record: ReadBack): DeadLetterCopy[] {
  const partition = record.headers["consumerd.source.partition"];
  const offset = record.headers["consumerd.source.offset"];
  if (partition === undefined || offset === undefined) return [];
  const seq = record.value.trim();
  return [{ partition: Number(partition), offset, seq: /^\d+$/.test(seq) ? Number(seq) : null }];
}

/** Checks a soak run. */
export function check(observation: SoakObservation): SoakReport {
  const { records, produced, partitions, deadLettered, faults, attempts } = observation;
  const kills = records.filter((r) => r.k === "kill");
  const allFaults: Fault[] = [
    ...faults,
    ...kills.map((r): Fault => ({ kind: "worker-kill", start: r.t, end: r.t, worker: r.w })),
    ...records.flatMap((r): Fault[] =>
      r.k === "slow" ? [{ kind: "long-call", start: r.t, end: r.t + r.ms, worker: r.w }] : []
    ),
  ];
  const { done, early } = completions(records, deadLettered, attempts);
  const handledKeys = new Set<string>();
  const seqs = new Set<number>();
  for (const r of records) {
    if (r.k === "call" && r.ok) {
      handledKeys.add(key(r.p, r.o));
      seqs.add(r.s);
    }
  }
  const deadKeys = new Set(deadLettered.map((d) => key(d.partition, d.offset)));
  for (const d of deadLettered) if (d.seq !== null) seqs.add(d.seq);

  const lost: SoakReport["lost"] = [];
  const duplicatesByCause: Record<string, number> = {};
  let duplicates = 0;
  const partitionReports: PartitionReport[] = [];
  let inTopic = 0;
  for (const end of [...partitions].sort((a, b) => a.partition - b.partition)) {
    const line: PartitionReport = {
      partition: end.partition,
      messages: 0,
      handled: 0,
      deadLettered: 0,
      lost: 0,
      duplicates: 0,
      highWatermark: end.high,
      committed: end.committed,
    };
    for (let o = BigInt(end.low); o < BigInt(end.high); o++) {
      const k = key(end.partition, String(o));
      line.messages++;
      const handled = handledKeys.has(k);
      const dead = deadKeys.has(k);
      if (handled) line.handled++;
      if (dead) line.deadLettered++;
      if (!handled && !dead) {
        line.lost++;
        lost.push({ partition: end.partition, offset: String(o) });
      }
      const list = done.get(k) ?? [];
      for (let i = 1; i < list.length; i++) {
        const cause = attribute(list[i - 1]!, list[i]!, allFaults);
        duplicatesByCause[cause] = (duplicatesByCause[cause] ?? 0) + 1;
        line.duplicates++;
      }
    }
    inTopic += line.messages;
    duplicates += line.duplicates;
    partitionReports.push(line);
  }
  const lostSeqs: number[] = [];
  for (let s = 0; s < produced; s++) if (!seqs.has(s)) lostSeqs.push(s);

  return {
    produced,
    inTopic,
    distinctHandled: handledKeys.size,
    deadLettered: deadKeys.size,
    lost,
    lostSeqs,
    orderViolations: orderViolations(records),
    deadLetteredEarly: early,
    duplicates,
    duplicatesByCause,
    uncommitted: partitions.filter((p) => p.committed !== p.high),
    calls: records.filter((r) => r.k === "call").length,
    failedCalls: records.filter((r) => r.k === "call" && !r.ok).length,
    kills: kills.length,
    longCalls: records.filter((r) => r.k === "slow").length,
    partitions: partitionReports,
  };
}

/**
 * True when the run kept every promise: nothing lost, nothing out of order,
 * nothing dead-lettered early, everything committed.
 */
export function passed(report: SoakReport): boolean {
  return report.lost.length === 0 && report.lostSeqs.length === 0 &&
    report.orderViolations.length === 0 && report.deadLetteredEarly.length === 0 &&
    report.uncommitted.length === 0;
}

const fmt = (n: number) => n.toLocaleString("en-US");

/** The soak's summary as a Markdown table (what the README quotes). */
export function formatReport(report: SoakReport, faults: Record<string, number>): string {
  const causes = Object.entries(report.duplicatesByCause)
    .sort((a, b) => b[1] - a[1])
    .map(([cause, n]) => `${cause} ${fmt(n)}`)
    .join(", ");
  const committedOk = report.partitions.length - report.uncommitted.length;
  const rows: Array<[string, string, string]> = [
    ["produced (acknowledged)", fmt(report.produced), ""],
    ["records in the topic", fmt(report.inTopic), "≥ produced"],
    ["distinct handled", fmt(report.distinctHandled), ""],
    ["dead-lettered", fmt(report.deadLettered), ""],
    ["lost", fmt(report.lost.length + report.lostSeqs.length), "0"],
    ["order violations", fmt(report.orderViolations.length), "0"],
    ["dead-lettered before its attempts were spent", fmt(report.deadLetteredEarly.length), "0"],
    ["duplicates", `${fmt(report.duplicates)}${causes ? ` (${causes})` : ""}`, "explained"],
    [
      "committed = high watermark",
      `${committedOk} of ${report.partitions.length} partitions`,
      "all",
    ],
    [
      "handler calls (failed)",
      `${fmt(report.calls)} (${fmt(report.failedCalls)})`,
      "",
    ],
    [
      "faults",
      Object.entries(faults).map(([k, n]) => `${k} ${fmt(n)}`).join(", "),
      "",
    ],
  ];
  return markdownTable(["measure", "value", "must be"], rows);
}

/** Per-partition detail, for diagnosis. */
export function formatPartitions(report: SoakReport): string {
  return markdownTable(
    ["partition", "messages", "handled", "dead-lettered", "lost", "duplicates", "HW", "committed"],
    report.partitions.map((p) => [
      String(p.partition),
      fmt(p.messages),
      fmt(p.handled),
      fmt(p.deadLettered),
      fmt(p.lost),
      fmt(p.duplicates),
      p.highWatermark,
      p.committed ?? "-",
    ]),
  );
}

/** A Markdown table with padded columns. */
export function markdownTable(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(" | ")} |`;
  return [line(header), `| ${widths.map((w) => "-".repeat(w)).join(" | ")} |`, ...rows.map(line)]
    .join("\n");
}

/**
 * A rolling restart, as a deploy does it: three daemons (one worker each)
 * in one group on a 6-partition topic under a steady 500 msg/s; each daemon
 * in turn gets SIGTERM and is started again 2 s later. For each group
 * protocol and membership — classic, classic + instanceId, consumer,
 * consumer + instanceId — it prints, per restart: the longest gap in
 * handled messages on the other daemons' partitions and on the restarted
 * daemon's, how soon after its start the restarted daemon handled each of
 * its partitions, which partitions changed owner, and the messages handled
 * twice; and, per combination, the messages lost (none).
 *
 * Targets: under the consumer protocol the other daemons' partitions that
 * stay with them never stop for more than 1 s (one that moves waits for its
 * new owner's next heartbeat: up to the broker's
 * group.consumer.heartbeat.interval.ms, 5 s); with an instanceId no
 * partition changes owner and the restarted daemon's partitions resume
 * within 2 s of its start.
 *
 * The suite runs consumer + instanceId on Bun, restarting one daemon;
 * `deno task scale-out` runs the whole table on Deno and on Bun.
 */
import assert from "node:assert/strict";
import type { DaemonRuntime } from "../harness/daemon.ts";
import {
  Fleet,
  type FleetRun,
  holds,
  longestGap,
  resumedAt,
  revokedBetween,
} from "../harness/fleet.ts";
import { steadyLoad, uniqueName, waitFor, withTopic } from "../harness/kafka.ts";

const PARTITIONS = 6;
const DAEMONS = ["a", "b", "c"];
/** How long the assignments must stay unchanged to count as settled, ms. */
const STEADY_MS = 2_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A group protocol with or without static membership. */
interface Combination {
  protocol: "classic" | "consumer";
  static: boolean;
}

/** What one restart did. */
interface Row {
  combination: string;
  restarted: string;
  /** Longest gap on the other daemons' partitions that stayed with them, ms; null: none stayed. */
  othersGapMs: number | null;
  /** Longest gap on the other daemons' partitions that moved meanwhile (and back, maybe), ms; null: none moved. */
  othersMovedGapMs: number | null;
  /** Longest gap on the restarted daemon's partitions (before and after), ms. */
  restartedGapMs: number;
  /** From the restarted daemon's start to its having handled a message of each partition it holds, ms. */
  resumedMs: number;
  changedOwner: number[];
  duplicates: number;
}

const label = (c: Combination) => `${c.protocol}${c.static ? " + instanceId" : ""}`;

/** Who holds which partition: the current run of each daemon. */
function owners(fleet: Fleet): Map<number, string> {
  const byPartition = new Map<number, string>();
  for (const name of DAEMONS) {
    for (const p of holds(fleet.current(name)) ?? []) byPartition.set(p, name);
  }
  return byPartition;
}

/** Waits until the daemons share every partition, each holding some, unchanged for a while. */
async function settled(fleet: Fleet): Promise<Map<number, string>> {
  let last = "";
  let since = Date.now();
  return await waitFor(() => {
    const held = DAEMONS.map((n) => holds(fleet.current(n)) ?? []);
    const signature = JSON.stringify(held);
    if (signature !== last) [last, since] = [signature, Date.now()];
    const all = held.flat();
    const spread = held.every((h) => h.length > 0) && all.length === PARTITIONS &&
      new Set(all).size === PARTITIONS;
    return spread && Date.now() - since >= STEADY_MS ? owners(fleet) : null;
  }, { what: "the three daemons share the partitions, steadily", timeoutMs: 90_000 });
}

async function rollingRestart(
  combination: Combination,
  runtime: DaemonRuntime,
  restarts: string[],
): Promise<Row[]> {
  return await withTopic(
    { partitions: PARTITIONS, prefix: "rolling" },
    async ({ topic, admin }) => {
      const fleet = new Fleet({ group: uniqueName("g"), topic, runtime, ...combination });
      const load = steadyLoad(admin, topic, { batch: 25, intervalMs: 50, partitions: PARTITIONS });
      const rows: Row[] = [];
      let stopped = false;
      try {
        for (const name of DAEMONS) await fleet.start(name);
        let before = await settled(fleet);
        for (const name of restarts) {
          const stoppedAt = Date.now();
          assert.equal(await fleet.current(name).process.stop(), 0, `${name} drains and exits 0`);
          await sleep(2_000);
          const run: FleetRun = await fleet.start(name);
          const after = await settled(fleet);
          const mine = [...after].filter(([, n]) => n === name).map(([p]) => p);
          const resumed = await resumedAt(fleet, run, mine);
          const until = Date.now();
          const handled = fleet.handled();
          const gap = (ps: number[]) =>
            Math.max(0, ...ps.map((p) => longestGap(handled, p, stoppedAt, until)));
          const seen = new Map<string, number>();
          let duplicates = 0;
          for (const h of handled) {
            const n = (seen.get(h.value) ?? 0) + 1;
            seen.set(h.value, n);
            if (n > 1 && h.at >= stoppedAt && h.at <= until) duplicates++;
          }
          const revoked = revokedBetween(fleet, stoppedAt, until);
          const others = [...before].filter(([, n]) => n !== name).map(([p]) => p);
          const stayed = others.filter((p) => !revoked.has(p) && after.get(p) === before.get(p));
          const moved = others.filter((p) => !stayed.includes(p));
          rows.push({
            combination: label(combination),
            restarted: name,
            othersGapMs: stayed.length === 0 ? null : gap(stayed),
            othersMovedGapMs: moved.length === 0 ? null : gap(moved),
            restartedGapMs: gap([...before].filter(([, n]) => n === name).map(([p]) => p)),
            resumedMs: resumed - run.startedAt,
            changedOwner: [...after].filter(([p, n]) => before.get(p) !== n).map(([p]) => p),
            duplicates,
          });
          before = after;
        }
        const sent = await load.stop();
        stopped = true;
        await waitFor(() => new Set(fleet.handled().map((h) => h.value)).size === sent, {
          what: `all ${sent} messages handled`,
          timeoutMs: 60_000,
        });
        const lost = sent - new Set(fleet.handled().map((h) => h.value)).size;
        console.log(`${label(combination)} on ${runtime}: ${sent} messages, ${lost} lost`);
        return rows;
      } finally {
        if (!stopped) await load.stop();
        await fleet.kill();
      }
    },
  );
}

function table(rows: Row[]): string {
  const header = [
    "combination",
    "restart",
    "others' longest gap: stayed / moved (ms)",
    "restarted's longest gap (ms)",
    "resumed after its start (ms)",
    "changed owner",
    "handled twice",
  ];
  const lines = rows.map((r) => [
    r.combination,
    r.restarted,
    `${r.othersGapMs ?? "-"} / ${r.othersMovedGapMs ?? "-"}`,
    String(r.restartedGapMs),
    String(r.resumedMs),
    r.changedOwner.join(",") || "-",
    String(r.duplicates),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  const row = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(" | ")} |`;
  return [row(header), row(widths.map((w) => "-".repeat(w))), ...lines.map(row)].join("\n");
}

/** The targets of a combination. */
function checkTargets(combination: Combination, rows: Row[]): void {
  for (const r of rows) {
    const what = `${r.combination}, restart of ${r.restarted}`;
    if (combination.protocol === "consumer") {
      assert.ok(
        (r.othersGapMs ?? 0) <= 1_000,
        `${what}: the others' partitions stopped ${r.othersGapMs} ms`,
      );
    }
    if (combination.static) {
      assert.deepEqual(r.changedOwner, [], `${what}: partitions changed owner`);
      assert.ok(r.resumedMs <= 2_000, `${what}: resumed ${r.resumedMs} ms after its start`);
    }
  }
}

const COMBINATIONS: Combination[] = [
  { protocol: "classic", static: false },
  { protocol: "classic", static: true },
  { protocol: "consumer", static: false },
  { protocol: "consumer", static: true },
];

if (Deno.env.get("SCALE_OUT_FULL") === "1") {
  for (const runtime of ["deno", "bun"] as const) {
    Deno.test(`rolling restart of three daemons on ${runtime}: every protocol and membership (full)`, async () => {
      const rows: Row[] = [];
      for (const combination of COMBINATIONS) {
        const mine = await rollingRestart(combination, runtime, DAEMONS);
        rows.push(...mine);
        console.log(`\n${table(mine)}\n`);
        checkTargets(combination, mine);
      }
      console.log(`\n${table(rows)}\n`);
    });
  }
} else {
  Deno.test("rolling restart on Bun, consumer protocol + instanceId: the restarted daemon resumes its own partitions within 2 s, the others never stop", async () => {
    const combination = { protocol: "consumer", static: true } as const;
    const rows = await rollingRestart(combination, "bun", ["b"]);
    console.log(`\n${table(rows)}\n`);
    checkTargets(combination, rows);
  });
}

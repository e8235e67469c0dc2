/**
 * Scale-out under churn: three daemons in one group, `replicas: 2` each, on
 * a 12-partition topic under steady load. The partitions spread over all six
 * workers; a SIGKILLed daemon's partitions move once Kafka's session timeout
 * expires its members; a SIGTERMed daemon leaves the group and its
 * partitions move at once; restarted daemons get partitions again. Every
 * produced message is handled at least once, and every message handled
 * twice lies in the killed daemon's uncommitted window. Prints who held
 * what, when.
 *
 * The suite runs one mixed group (daemons on Deno and Bun);
 * `deno task scale-out` runs the same on Deno only and on Bun only.
 */
import assert from "node:assert/strict";
import type { GroupDescription } from "../../src/kafka/kafkajs/admin.ts";
import type { KafkaAdmin } from "../../src/kafka/kafkajs/admin.ts";
import {
  type DaemonProcess,
  type DaemonRuntime,
  fixtureHandler,
  startDaemon,
  writeConfig,
} from "../harness/daemon.ts";
import {
  BROKERS,
  describeGroup,
  steadyLoad,
  uniqueName,
  waitFor,
  withTopic,
} from "../harness/kafka.ts";

const PARTITIONS = 12;
/** The balanced session's `sessionTimeout` (src/kafka/kafkajs/balanced_session.ts). */
const SESSION_TIMEOUT_MS = 30_000;
/** After the session expires: the survivors notice at their next heartbeat (3 s) and rejoin. */
const REBALANCE_SLACK_MS = 15_000;
/** How late the coordinator's view may be seen: the polling interval and a request. */
const POLL_SLACK_MS = 2_000;
/** A member that leaves (LeaveGroup) is gone at once; the survivors only rejoin. */
const LEAVE_LIMIT_MS = 10_000;
const DAEMONS = ["a", "b", "c"] as const;
type DaemonName = typeof DAEMONS[number];
const WORKERS = DAEMONS.flatMap((d) => [`${d}0`, `${d}1`]);

/** One process of a daemon: a daemon restarted is a new run. */
interface Run {
  name: DaemonName;
  runtime: DaemonRuntime;
  process: DaemonProcess;
  ended: "SIGKILL" | "SIGTERM" | null;
}

/** Worker label ("a0") → partitions it holds; from the group coordinator. */
type Owners = Map<string, number[]>;

class Timeline {
  readonly #start = performance.now();
  readonly rows: Array<{ t: number; event: string; owners: Owners | null }> = [];
  #last = "";

  event(event: string): number {
    const t = this.now();
    this.rows.push({ t, event, owners: null });
    return t;
  }

  /** Adds a row when ownership changed since the last one. */
  owners(owners: Owners, state: string): void {
    const signature = JSON.stringify([...owners].sort());
    if (signature === this.#last) return;
    this.#last = signature;
    this.rows.push({ t: this.now(), event: `group ${state}`, owners });
  }

  now(): number {
    return (performance.now() - this.#start) / 1000;
  }

  table(): string {
    const header = ["t (s)", "event", ...WORKERS];
    const lines = this.rows.map((r) => [
      r.t.toFixed(1),
      r.event,
      ...WORKERS.map((w) => (r.owners === null ? "" : (r.owners.get(w) ?? ["-"]).join(","))),
    ]);
    const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
    const row = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(" | ")} |`;
    return [row(header), row(widths.map((w) => "-".repeat(w))), ...lines.map(row)].join("\n");
  }
}

function ownersOf(description: GroupDescription, topic: string): Owners {
  const owners: Owners = new Map();
  for (const member of description.members) {
    // clientId is `<daemon>-<consumer>-<replica>`: "a-c-1" → "a1".
    const [daemon, , replica] = member.clientId.split("-");
    const partitions = member.assignment[topic] ?? [];
    if (partitions.length > 0) owners.set(`${daemon}${replica}`, partitions);
  }
  return owners;
}

const covered = (owners: Owners) =>
  [...owners.values()].flat().sort((a, b) => a - b).join() ===
    Array.from({ length: PARTITIONS }, (_, i) => i).join();

async function untilOwners(
  admin: KafkaAdmin,
  { group, topic, timeline, what, timeoutMs, accept }: {
    group: string;
    topic: string;
    timeline: Timeline;
    what: string;
    timeoutMs: number;
    accept: (owners: Owners) => boolean;
  },
): Promise<Owners> {
  return await waitFor(async () => {
    const description = await admin.describeGroup(group);
    const owners = ownersOf(description, topic);
    timeline.owners(owners, description.state);
    return description.state === "Stable" && covered(owners) && accept(owners) ? owners : null;
  }, { what, timeoutMs, intervalMs: 250 });
}

const daemonsOf = (owners: Owners) => new Set([...owners.keys()].map((w) => w[0]));

async function peakRssMiB(pid: number): Promise<number> {
  const status = await Deno.readTextFile(`/proc/${pid}/status`);
  return Number(status.match(/VmHWM:\s+(\d+)/)![1]) / 1024;
}

async function scaleOut(runtimes: Record<DaemonName, DaemonRuntime>, holdMs: number) {
  await withTopic({ partitions: PARTITIONS, prefix: "scale" }, async ({ topic, admin }) => {
    const group = uniqueName("g");
    const recordDir = await Deno.makeTempDir({ prefix: "consumerd-scale-" });
    const recordFile = `${recordDir}/a-first-run.jsonl`;
    const config = (name: DaemonName, { slow = false } = {}) =>
      writeConfig({
        kafka: { brokers: BROKERS, clientId: name },
        http: { listen: false },
        consumers: [{
          name: "c",
          group,
          topic,
          handler: fixtureHandler(slow ? "slow_record.ts" : "record.ts"),
          replicas: 2,
          commit: { mode: "auto", intervalMs: slow ? 3000 : 1000 },
          ...(slow ? { permissions: { env: ["RECORD_FILE"], write: [recordDir] } } : {}),
        }],
      });
    // a's first run falls behind (100 ms a message, a commit every 3 s within a long batch), so
    // that the SIGKILL lands in an uncommitted window; every other run keeps up.
    const configs = {
      a: await config("a"),
      b: await config("b"),
      c: await config("c"),
      slowA: await config("a", { slow: true }),
    };
    const runs: Run[] = [];
    const timeline = new Timeline();
    const start = (name: DaemonName, { slow = false } = {}) => {
      const run: Run = {
        name,
        runtime: runtimes[name],
        process: slow
          ? startDaemon(configs.slowA, {
            runtime: runtimes[name],
            env: { RECORD_FILE: recordFile },
          })
          : startDaemon(configs[name], { runtime: runtimes[name] }),
        ended: null,
      };
      runs.push(run);
      timeline.event(`start ${name} (${run.runtime}${slow ? ", slow handler" : ""})`);
      return run;
    };
    const until = (what: string, timeoutMs: number, accept: (o: Owners) => boolean) =>
      untilOwners(admin, { group, topic, timeline, what, timeoutMs, accept });
    const allSix = (o: Owners) => WORKERS.every((w) => (o.get(w)?.length ?? 0) > 0);

    const load = steadyLoad(admin, topic, { batch: 12, intervalMs: 100, partitions: PARTITIONS });
    let sent = 0;
    try {
      const [a, b] = [start("a", { slow: true }), start("b"), start("c")];
      const spread = await until("partitions on all six workers", 90_000, allSix);
      console.log(`spread: ${WORKERS.map((w) => `${w}=${spread.get(w)!.length}`).join(" ")}`);
      await new Promise((r) => setTimeout(r, holdMs));

      // SIGKILL: a's members stay in the group until their session expires.
      const aHeld = new Map([...spread].filter(([w]) => w.startsWith("a")));
      a!.process.kill("SIGKILL");
      a!.ended = "SIGKILL";
      await a!.process.exited();
      const killedAt = timeline.event("SIGKILL a");
      const committedAtKill = new Map(
        (await admin.committed(group, topic)).map((c) => [c.partition, c.offset]),
      );
      await until(
        "a's partitions on b and c",
        SESSION_TIMEOUT_MS + REBALANCE_SLACK_MS,
        (o) => !daemonsOf(o).has("a"),
      );
      const killMoveS = timeline.now() - killedAt;
      // When the coordinator dropped a's members: its session expired, the rebalance began.
      const expiredS = timeline.rows.find((r) =>
        r.t > killedAt && r.owners !== null && !daemonsOf(r.owners).has("a")
      )!.t - killedAt;
      assert.ok(
        expiredS <= (SESSION_TIMEOUT_MS + POLL_SLACK_MS) / 1000,
        `a's members dropped ${
          expiredS.toFixed(1)
        } s after the kill, not within the session timeout`,
      );
      timeline.event(`a's partitions moved after ${killMoveS.toFixed(1)} s`);
      await new Promise((r) =>
        setTimeout(r, holdMs)
      );

      // SIGTERM: b drains, commits and leaves the group; c takes over at once.
      b!.process.kill("SIGTERM");
      b!.ended = "SIGTERM";
      const termAt = timeline.event("SIGTERM b");
      await until("b's partitions on c", LEAVE_LIMIT_MS, (o) => !daemonsOf(o).has("b"));
      const termMoveS = timeline.now() - termAt;
      timeline.event(`b's partitions moved after ${termMoveS.toFixed(1)} s`);
      assert.equal(await b!.process.exited(), 0, "b drained and exited 0");
      // Kafka's own tool sees the same: only c's members hold partitions.
      const described = await describeGroup(group, "--offsets");
      const clients = new Set(
        described.filter((r) => r.TOPIC === topic).map((r) => r["CLIENT-ID"]),
      );
      assert.deepEqual([...clients].sort(), ["c-c-0", "c-c-1"], "kafka-consumer-groups agrees");

      // Both back: the group spreads over six workers again.
      start("a");
      start("b");
      await until("partitions on all six workers again", 90_000, allSix);
      await new Promise((r) => setTimeout(r, holdMs));
      sent = await load.stop();
      timeline.event(`load stopped: ${sent} messages`);

      // The killed run's log lines still in flight died with it: its record file is complete.
      const recorded = async (run: Run) =>
        run.process === a!.process
          ? (await Deno.readTextFile(recordFile)).trim().split("\n").map((line) =>
            JSON.parse(line) as { partition: number; offset: string; value: string }
          )
          : run.process.handled();
      const handled = async () =>
        (await Promise.all(
          runs.map(async (r) => (await recorded(r)).map((h) => ({ ...h, run: r }))),
        ))
          .flat();
      await waitFor(async () => new Set((await handled()).map((h) => h.value)).size >= sent, {
        what: `all ${sent} messages handled`,
        timeoutMs: 60_000,
      });
      const peaks = await Promise.all(
        runs.filter((r) => r.ended === null).map(async (r) =>
          `${r.name} (${r.runtime}) ${(await peakRssMiB(r.process.pid)).toFixed(0)} MiB`
        ),
      );
      for (const run of runs.filter((r) => r.ended === null)) {
        run.process.kill("SIGTERM");
        run.ended = "SIGTERM";
        assert.equal(await run.process.exited(), 0, `${run.name} exits 0`);
      }
      timeline.event("all stopped");

      // At least once: every produced message was handled.
      const all = await handled();
      const lostLogs = (await recorded(a!)).length - a!.process.handled().length;
      const values = new Set(all.map((h) => h.value));
      assert.equal(values.size, sent, "every produced message handled");
      // Duplicates: each one lies in the killed daemon's uncommitted window.
      const byValue = Map.groupBy(all, (h) => h.value);
      const duplicates = [...byValue.values()].filter((hs) => hs.length > 1);
      for (const hs of duplicates) {
        const { partition, offset, value } = hs[0]!;
        const committed = committedAtKill.get(partition) ?? null;
        const byKilled = hs.some((h) => h.run.ended === "SIGKILL");
        const inWindow = committed === null || BigInt(offset) >= BigInt(committed);
        const heldByA = [...aHeld.values()].some((ps) => ps.includes(partition));
        assert.ok(
          byKilled && inWindow && heldByA && hs.length === 2,
          `${value} (${partition}:${offset}) handled ${hs.length} times by ${
            hs.map((h) => h.run.name).join(", ")
          }: not in a's uncommitted window (committed ${committed} at the kill)`,
        );
      }
      console.log(`\n${timeline.table()}\n`);
      assert.ok(
        duplicates.length > 0,
        "the kill left an uncommitted window (else nothing is shown)",
      );
      console.log(
        `${sent} messages; ${duplicates.length} handled twice, all in a's uncommitted window ` +
          `(offsets at or past its last commit on the partitions it held when killed); ` +
          `SIGKILL: a's members dropped after ${expiredS.toFixed(1)} s (session timeout ${
            SESSION_TIMEOUT_MS / 1000
          } s), partitions moved after ${killMoveS.toFixed(1)} s; SIGTERM: moved after ${
            termMoveS.toFixed(1)
          } s; ${lostLogs} of a's log lines died with it (its record file has them); ` +
          `peak RSS: ${peaks.join(", ")}`,
      );
    } finally {
      await Deno.remove(recordDir, { recursive: true });
      if (sent === 0) await load.stop();
      for (const run of runs) run.process.kill("SIGKILL");
      await Promise.all(runs.map((r) => r.process.exited()));
    }
  });
}

const FULL = Deno.env.get("SCALE_OUT_FULL") === "1";

if (FULL) {
  for (const runtime of ["deno", "bun"] as const) {
    Deno.test(`scale-out under churn, three daemons on ${runtime} (full)`, async () => {
      await scaleOut({ a: runtime, b: runtime, c: runtime }, 15_000);
    });
  }
} else {
  Deno.test("scale-out under churn: three daemons (Deno, Bun, Deno), SIGKILL, SIGTERM, restart; every message handled, every duplicate explained", async () => {
    await scaleOut({ a: "deno", b: "bun", c: "deno" }, 2_000);
  });
}

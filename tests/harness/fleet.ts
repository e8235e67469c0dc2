/**
 * Several daemons in one group, each started, stopped and started again
 * under its own name (its client id and, with static membership, its
 * `kafka.instanceId`): what each run was assigned, and what every run
 * handled, when.
 *
 * @module
 */
import {
  type DaemonProcess,
  type DaemonRuntime,
  fixtureHandler,
  startDaemon,
  writeConfig,
} from "./daemon.ts";
import type { KafkaAdmin } from "../../src/kafka/kafkajs/admin.ts";
import { BROKERS, waitFor } from "./kafka.ts";

/** How the daemons of a fleet join their group. */
export interface FleetOptions {
  group: string;
  topic: string;
  /** The group protocol (the platformatic engine either way). */
  protocol: "classic" | "consumer";
  /** Static membership: each daemon's name is its `kafka.instanceId`. */
  static: boolean;
  /** `kafka.sessionTimeoutMs` (the classic protocol's session timeout). */
  sessionTimeoutMs?: number;
  runtime?: DaemonRuntime;
  /** More consumer fields (replicas, commit, handler…). */
  consumer?: Record<string, unknown>;
  /** Environment variables of every daemon. */
  env?: Record<string, string>;
  /** The bootstrap brokers (default: the test broker's). */
  brokers?: string[];
}

/** One run of a named daemon. */
export interface FleetRun {
  name: string;
  process: DaemonProcess;
  /** When it was started, ms (`Date.now()`). */
  startedAt: number;
}

/** A handled message, by which run, when. */
export interface Handled {
  partition: number;
  offset: string;
  value: string;
  run: FleetRun;
  /** When the handler logged it, ms since the epoch. */
  at: number;
}

/** Named daemons in one group. */
export class Fleet {
  readonly runs: FleetRun[] = [];
  readonly #options: FleetOptions;
  readonly #configs = new Map<string, string>();

  constructor(options: FleetOptions) {
    this.#options = options;
  }

  /** Starts daemon `name` (again). */
  async start(name: string): Promise<FleetRun> {
    let config = this.#configs.get(name);
    if (config === undefined) {
      const { group, topic, protocol, sessionTimeoutMs } = this.#options;
      config = await writeConfig({
        kafka: {
          brokers: this.#options.brokers ?? BROKERS,
          clientId: name,
          engine: "platformatic",
          groupProtocol: protocol,
          ...(this.#options.static ? { instanceId: name } : {}),
          ...(sessionTimeoutMs === undefined ? {} : { sessionTimeoutMs }),
        },
        http: { listen: false },
        consumers: [{
          name: "c",
          group,
          topic,
          handler: fixtureHandler("record.ts"),
          commit: { mode: "auto", intervalMs: 1000 },
          ...this.#options.consumer,
        }],
      });
      this.#configs.set(name, config);
    }
    const process = startDaemon(config, {
      runtime: this.#options.runtime ?? "deno",
      env: this.#options.env ?? {},
    });
    const run = { name, process, startedAt: Date.now() };
    this.runs.push(run);
    return run;
  }

  /** The latest run of `name`. */
  current(name: string): FleetRun {
    const run = this.runs.findLast((r) => r.name === name);
    if (run === undefined) throw new Error(`Daemon ${name} was never started`);
    return run;
  }

  /** Every message handled by any run, in the order handled. */
  handled(): Handled[] {
    return this.runs.flatMap((run) =>
      run.process.logged("handled").map((r) => ({
        partition: r.partition as number,
        offset: r.offset as string,
        value: r.value as string,
        run,
        at: Date.parse(String(r.time)),
      }))
    ).sort((a, b) => a.at - b.at);
  }

  /** Kills every run still alive and waits for them. */
  async kill(): Promise<void> {
    for (const run of this.runs) run.process.kill("SIGKILL");
    await Promise.all(this.runs.map((r) => r.process.exited()));
  }
}

/** The assignments a run's worker (replica 0) logged, in order. */
export function assignments(run: FleetRun): number[][] {
  return run.process.logged("partitions assigned").map((r) => r.partitions as number[]);
}

/** The partitions a run's worker holds now (its last assignment), or null before its first. */
export function holds(run: FleetRun): number[] | null {
  return assignments(run).at(-1) ?? null;
}

/**
 * The longest time, ms, in which partition `partition` had no message
 * handled (by any run), over the stretch `[from, to]` (epoch ms): the
 * stretch's ends count as the edges of a gap.
 */
export function longestGap(
  handled: readonly Handled[],
  partition: number,
  from: number,
  to: number,
): number {
  const times = handled.filter((h) => h.partition === partition && h.at >= from && h.at <= to)
    .map((h) => h.at);
  const edges = [from, ...times, to];
  let longest = 0;
  for (let i = 1; i < edges.length; i++) longest = Math.max(longest, edges[i]! - edges[i - 1]!);
  return longest;
}

/** Messages handled more than once (by value), with their count. */
export function duplicates(handled: readonly Handled[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const h of handled) counts.set(h.value, (counts.get(h.value) ?? 0) + 1);
  return new Map([...counts].filter(([, n]) => n > 1));
}

/**
 * Consumer fields and environment for daemons whose handler
 * (`crash_once.ts`) kills its worker on the first message "crash" it meets
 * (once across runs, by a marker file), and handles every other.
 */
export async function crashingOnce(): Promise<
  { consumer: Record<string, unknown>; env: Record<string, string>; remove(): Promise<void> }
> {
  const dir = await Deno.makeTempDir({ prefix: "consumerd-crash-" });
  const marker = `${dir}/crashed`;
  return {
    consumer: {
      handler: fixtureHandler("crash_once.ts"),
      permissions: { env: ["CRASH_MARKER"], read: [dir], write: [dir] },
    },
    env: { CRASH_MARKER: marker },
    remove: () => Deno.remove(dir, { recursive: true }),
  };
}

/**
 * Kills the worker of `run` (its handler is {@linkcode crashingOnce}'s) with
 * a "crash" message on the first of `partitions`, and waits until the
 * supervisor's replacement holds `partitions` again and handled the message.
 */
export async function crashWorker(
  admin: KafkaAdmin,
  topic: string,
  fleet: Fleet,
  run: FleetRun,
  partitions: number[],
): Promise<void> {
  const before = assignments(run).length;
  await admin.produce(topic, [{ value: "crash", partition: partitions[0]! }]);
  await run.process.waitForLog("worker restarting");
  await waitFor(
    () => assignments(run).length > before && holds(run)?.join() === partitions.join(),
    { what: `${run.name}'s new worker holds ${partitions}` },
  );
  await waitFor(() => fleet.handled().some((h) => h.run === run && h.value === "crash"), {
    what: `${run.name}'s new worker handles the message its predecessor died on`,
  });
}

/** The partitions any run's worker gave up between `from` and `to` (epoch ms). */
export function revokedBetween(fleet: Fleet, from: number, to: number): Set<number> {
  return new Set(
    fleet.runs.flatMap((run) =>
      run.process.logged("partitions revoked")
        .filter((r) => {
          const at = Date.parse(String(r.time));
          return at >= from && at <= to;
        })
        .flatMap((r) => r.partitions as number[])
    ),
  );
}

/** Waits until `runs` hold all `partitions` partitions between them, each some; returns what each holds. */
export async function sharing(runs: FleetRun[], partitions: number): Promise<number[][]> {
  return await waitFor(() => {
    const held = runs.map((r) => holds(r) ?? []);
    if (held.some((h) => h.length === 0)) return null;
    const all = held.flat();
    return all.length === partitions && new Set(all).size === partitions ? held : null;
  }, { what: `${runs.map((r) => r.name)} share the partitions`, timeoutMs: 60_000 });
}

/** Waits until `run` handled a message of each of `partitions`; returns when (epoch ms). */
export async function resumedAt(
  fleet: Fleet,
  run: FleetRun,
  partitions: number[],
): Promise<number> {
  return await waitFor(() => {
    const at = partitions.map((p) =>
      fleet.handled().find((h) => h.run === run && h.partition === p)?.at
    );
    return at.every((t) => t !== undefined) ? Math.max(...at as number[]) : null;
  }, { what: `${run.name} handles each of ${partitions}`, timeoutMs: 30_000 });
}

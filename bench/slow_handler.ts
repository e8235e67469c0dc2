/**
 * The slow-handler section: a handler that waits 20 ms per message on I/O —
 * a call to a local service that answers 20 ms later (bench/wait_service.ts),
 * as one waiting on an HTTP call or a database write does — on a
 * topic of 3 partitions whose records carry 3,000 keys, consumed by
 * consumerd (`concurrency` and `ordering` partition, key or none) and by
 * Confluent's Parallel Consumer (PARTITION, KEY, UNORDERED; the same
 * `maxConcurrency`) in the same run, interleaved.
 *
 * The ideal rate of a row is its concurrency / 20 ms. Each row counts to the
 * messages its reachable rate handles in the window (8 s; `--quick` 2 s) —
 * the ideal, except that partition ordering keeps at most one call per
 * partition in flight — capped at the topic's records; its rate is measured
 * from its first handler call's start to the end of that many calls.
 *
 * `ordering: key` and `none` are consumer fields newer than some builds: a
 * build whose `check` rejects the field has those consumerd rows skipped,
 * with check's message in the report, and they light up once it accepts it.
 *
 * @module
 */
import type { Client, Ordering, SlowSettings } from "./client.ts";
import type { BenchCluster } from "./cluster.ts";
import {
  daemonClient,
  slowConsumerFields,
  slowHandlerSource,
  writeRunFiles,
} from "./daemon_client.ts";
import { parallelConsumerClient } from "./parallel_consumer_client.ts";
import { ROOT, scriptCommand } from "./runtimes.ts";
import { idealRate, type SlowReport, type SlowTopic } from "./report.ts";
import { consumeAll } from "./schedule.ts";
import { PARTITIONS, reuseOrCreate, verifySeeded } from "./seed.ts";
import { startWaitService, type WaitService } from "./wait_service.ts";

/** The slow-handler topic: 120,000 records of 100 B over 3,000 keys. */
export const SLOW_TOPIC = { recordBytes: 100, count: 120_000, keys: 3_000 } as const;

/** How long the handler waits per message, ms. */
export const SLOW_WAIT_MS = 20;

/**
 * The slow-handler topic's name.
 *
 * @example
 * ```ts
 * slowTopicName(SLOW_TOPIC); // "bench-slow-100b-120000-k3000"
 * ```
 */
export function slowTopicName(
  { recordBytes, count, keys }: { recordBytes: number; count: number; keys: number },
): string {
  return `bench-slow-${recordBytes}b-${count}-k${keys}`;
}

/**
 * How many messages a row counts to: what its reachable rate handles in
 * `windowS` (partition ordering: at most one call per partition in flight),
 * at least one, at most the topic's records.
 *
 * @example
 * ```ts
 * expectedMessages({ ordering: "key", concurrency: 64 }, { windowS: 8, available: 120_000 }); // 25,600
 * ```
 */
export function expectedMessages(
  { ordering, concurrency }: SlowSettings,
  { windowS, available, waitMs = SLOW_WAIT_MS, partitions = PARTITIONS }: {
    windowS: number;
    available: number;
    waitMs?: number;
    partitions?: number;
  },
): number {
  const inFlight = ordering === "partition" ? Math.min(concurrency, partitions) : concurrency;
  return Math.max(1, Math.min(available, Math.round(idealRate(inFlight, waitMs) * windowS)));
}

/** Seeds the slow-handler topic with keyed records unless it already holds them. */
export async function seedSlowTopic(
  cluster: BenchCluster,
  log: (line: string) => void,
): Promise<SlowTopic> {
  const topic = slowTopicName(SLOW_TOPIC);
  const { recordBytes, count, keys } = SLOW_TOPIC;
  const created = !await reuseOrCreate(cluster, topic, count, log);
  if (created) {
    log(`seeding ${topic}: ${count} records of ${recordBytes} B over ${keys} keys`);
    await cluster.produce(topic, count, recordBytes, { keys });
    await verifySeeded(cluster, topic, count);
  }
  return { topic, recordBytes, count, keys, created };
}

/**
 * Whether this build's `consumerd check` accepts `ordering`: null if it
 * does, else check's message about the field. Throws when check rejects the
 * generated config for another reason.
 */
export async function orderingSupport(
  ordering: Ordering,
  brokers: string[],
): Promise<string | null> {
  const dir = await Deno.makeTempDir({ prefix: "consumerd-bench-" });
  try {
    const config = await writeRunFiles(dir, {
      brokers,
      engine: "kafkajs",
      topic: "bench-check",
      group: "bench-check",
      handlerSource: slowHandlerSource(1, { waitMs: SLOW_WAIT_MS, port: 1 }),
      fields: slowConsumerFields({ ordering, concurrency: 16 }, 1),
    });
    const [command, args] = scriptCommand("deno", "src/main.ts", ["check", "--config", config]);
    const out = await new Deno.Command(command, {
      args,
      cwd: ROOT,
      stdout: "piped",
      stderr: "piped",
    })
      .output();
    if (out.success) return null;
    const stderr = new TextDecoder().decode(out.stderr);
    const problem = stderr.split("\n").find((line) => line.includes("ordering"));
    if (problem === undefined) {
      throw new Error(`consumerd check rejected the slow-handler config:\n${stderr}`);
    }
    // `file:line:col path: message; expected one of: …` → `path: message`.
    return problem.slice(problem.indexOf(" ") + 1).split(";")[0]!.trim();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** The runtimes consumerd's slow-handler rows run on. */
export type SlowRuntime = "deno" | "bun";

/**
 * How long a `waitMs` setTimeout lasts on `runtime` (median of 100 in a
 * row, ms): the runtime's own floor under a timer-bound handler's ideal.
 */
export async function timerFloorMs(runtime: SlowRuntime): Promise<number> {
  const [command, args] = scriptCommand(runtime, "bench/clients/timer_floor.mjs", []);
  const out = await new Deno.Command(command, { args, cwd: ROOT, stdout: "piped" }).output();
  const ms = Number(new TextDecoder().decode(out.stdout).trim());
  if (!out.success || !Number.isFinite(ms)) {
    throw new Error(`cannot measure the ${runtime} timer floor (exit ${out.code})`);
  }
  return ms;
}

/** Options for {@linkcode runSlowSection}. */
export interface SlowSectionOptions {
  brokers: string[];
  orderings: Ordering[];
  concurrency: number[];
  /** The runtimes consumerd runs on (each a row beside the same Parallel Consumer row). */
  runtimes: SlowRuntime[];
  windowS: number;
  reps: number;
  runId: string;
  /** Whether `--only` selects a client label. */
  selected: (label: string) => boolean;
  log: (line: string) => void;
}

/**
 * A client that counts to a fixed number of messages instead of the topic's
 * records, and times out only below a tenth of the rate that count is sized for.
 */
function countingTo(client: Client, expected: number, windowS: number): Client {
  const minRate = expected / windowS / 10;
  return {
    ...client,
    run: (topic, group) => client.run({ ...topic, count: expected, minRate }, group),
  };
}

/**
 * The section's clients, in their base order: for each concurrency and
 * ordering, the Parallel Consumer and consumerd (kafkajs engine) on each of
 * `runtimes` (Deno by default), each counting to {@linkcode expectedMessages}.
 */
export function slowClients(
  { brokers, orderings, concurrency, windowS, available, runtimes = ["deno"], servicePort }:
    & Pick<
      SlowSectionOptions,
      "brokers" | "orderings" | "concurrency" | "windowS"
    >
    & { available: number; runtimes?: SlowRuntime[]; servicePort: () => number },
): Client[] {
  return concurrency.flatMap((c) =>
    orderings.flatMap((ordering) => {
      const settings = { ordering, concurrency: c };
      const expected = expectedMessages(settings, { windowS, available });
      return [
        parallelConsumerClient({ brokers, ...settings, waitMs: SLOW_WAIT_MS, servicePort }),
        ...runtimes.map((runtime) =>
          daemonClient({
            runtime,
            mode: "message",
            brokers,
            slow: { ...settings, waitMs: SLOW_WAIT_MS, servicePort },
          })
        ),
      ].map((client) => countingTo(client, expected, windowS));
    })
  );
}

/**
 * Seeds the topic, asks `check` which orderings this build accepts, and runs
 * the selected clients interleaved. Returns null when `--only` selects none.
 */
export async function runSlowSection(
  cluster: BenchCluster,
  options: SlowSectionOptions,
): Promise<{ report: SlowReport; groups: string[] } | null> {
  const { log } = options;
  let service: WaitService | null = null;
  const servicePort = () => {
    if (service === null) throw new Error("the wait service is not running");
    return service.port;
  };
  const wanted = slowClients({ ...options, available: SLOW_TOPIC.count, servicePort })
    .filter((c) => options.selected(c.label));
  if (wanted.length === 0) return null;
  const skipped: SlowReport["skipped"] = [];
  for (const ordering of options.orderings) {
    if (ordering === "partition") continue;
    if (!wanted.some((c) => c.family === "R" && c.slow?.ordering === ordering)) continue;
    const reason = await orderingSupport(ordering, options.brokers);
    if (reason === null) continue;
    log(
      `ordering ${ordering} not supported by this build (check: ${reason}): its R rows are skipped`,
    );
    skipped.push({ ordering, reason });
  }
  const clients = wanted.filter((c) =>
    !(c.family === "R" && skipped.some((s) => s.ordering === c.slow?.ordering))
  );
  const topic = await seedSlowTopic(cluster, log);
  const timerMs: SlowReport["timerMs"] = {};
  for (const runtime of options.runtimes) {
    if (!clients.some((c) => c.family === "R" && c.runtime === runtime)) continue;
    timerMs[runtime] = await timerFloorMs(runtime);
    log(`a ${SLOW_WAIT_MS} ms setTimeout lasts ${timerMs[runtime]!.toFixed(2)} ms on ${runtime}`);
  }
  service = await startWaitService();
  log(`wait service on 127.0.0.1:${service.port}`);
  let consumed: Awaited<ReturnType<typeof consumeAll>>;
  try {
    consumed = await consumeAll(clients, [{ ...topic, reps: options.reps }], {
      runId: options.runId,
      log,
    });
  } finally {
    await service.close();
  }
  return {
    report: {
      topic,
      waitMs: SLOW_WAIT_MS,
      windowS: options.windowS,
      runs: consumed.runs,
      skipped,
      timerMs,
    },
    groups: consumed.groups,
  };
}

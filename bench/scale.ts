/**
 * Start-up and scale: the daemon with 0, 1, 10 and 50 consumers, each on
 * its own small topic (1 partition, a few records) with its own group.
 *
 * - Ready time: from spawning `src/main.ts run` to the daemon's last
 *   `consumer started` record (every consumer joined, got its partition and
 *   committed its start position), on the benchmark's clock. With no
 *   consumers: to its `starting` record.
 * - Memory: the daemon's resident set (VmRSS) after it was ready and then
 *   idle for {@linkcode IDLE_MS}; per worker = (RSS with N − RSS with none) / N.
 * - Idle CPU: the daemon's CPU time over the idle window, as % of one core.
 * - Workers: from the bundle (`deno task build`) or from the TypeScript
 *   sources (`CONSUMERD_WORKER_ENTRY=source`), side by side.
 *
 * @module
 */
import { join } from "node:path";
import type { Runtime } from "../src/runtime/types.ts";
import { jsonLine } from "./child.ts";
import type { Engine } from "./client.ts";
import type { BenchCluster } from "./cluster.ts";
import { daemonConfig, handlerSource, startDaemon, stopDaemon } from "./daemon_client.ts";
import { memory, treeCpuMs } from "./proc.ts";

/** How long the daemon idles after it is ready before its memory is read, ms. */
export const IDLE_MS = 3_000;

/** Records in each scale topic. */
const SCALE_RECORDS = 100;

/** One start of the daemon with `consumers` consumers. */
export interface ScaleSample {
  runtime: Runtime["name"];
  engine: Engine;
  /** What workers were started from. */
  workers: WorkerEntry;
  consumers: number;
  /** The repetition it belongs to (1, 2, …): within one, every start runs back to back. */
  rep: number;
  /** From spawn to the last `consumer started`, ms. */
  readyMs: number;
  /** CPU time of the daemon (all its threads) from spawn to ready, ms. */
  startCpuMs: number;
  /** Resident set after idling, KiB. */
  rssKiB: number;
  /** CPU over the idle window, % of one core. */
  idleCpuPct: number;
}

/** What the daemon's workers start from. */
export type WorkerEntry = "bundle" | "source";

/** The name of the i-th scale topic. */
export function scaleTopic(i: number): string {
  return `bench-scale-${i}`;
}

/** Creates (or reuses) the first `count` scale topics. */
export async function ensureScaleTopics(cluster: BenchCluster, count: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    const topic = scaleTopic(i);
    if (await cluster.partitions(topic) === 1 && await cluster.records(topic) === SCALE_RECORDS) {
      continue;
    }
    await cluster.deleteTopics([topic]);
    for (let t = 0; t < 100 && await cluster.partitions(topic) !== null; t++) {
      await new Promise((r) => setTimeout(r, 100));
    }
    await cluster.createTopic(topic, 1);
    await cluster.produce(topic, SCALE_RECORDS, 100);
  }
}

/**
 * Starts the daemon with `consumers` consumers, waits until every one is
 * ready, idles, reads its memory and stops it. Returns the sample and the
 * groups it used.
 */
export async function measureStartup(
  { runtime, engine, workers }: { runtime: Runtime["name"]; engine: Engine; workers: WorkerEntry },
  consumers: number,
  { brokers, runId, rep }: { brokers: string[]; runId: string; rep: number },
): Promise<{ sample: ScaleSample; groups: string[] }> {
  const dir = await Deno.makeTempDir({ prefix: "consumerd-bench-scale-" });
  try {
    const handler = join(dir, "handler.ts");
    const config = join(dir, "consumers.yaml");
    await Deno.writeTextFile(handler, handlerSource("batch", SCALE_RECORDS));
    const entries = Array.from({ length: consumers }, (_, i) => ({
      name: `scale-${i}`,
      topic: scaleTopic(i),
      group: `bench-scale-${runId}-${runtime}-${engine}-${workers}-${consumers}-${i}`,
      handler,
    }));
    await Deno.writeTextFile(config, daemonConfig(brokers, entries, engine));
    const started = performance.now();
    const daemon = startDaemon(runtime, config, {
      env: workers === "source" ? { CONSUMERD_WORKER_ENTRY: "source" } : {},
    });
    try {
      const ready = new Set<string>();
      let startedFrom: unknown = null;
      await daemon.waitForLine((line) => {
        const record = jsonLine(line);
        if (record === null) return false;
        if (record.msg === "starting") startedFrom = record.workers;
        if (consumers === 0) return record.msg === "starting";
        if (record.msg === "consumer started") ready.add(String(record.consumer));
        return ready.size === consumers;
      }, { timeoutMs: 60_000 + consumers * 3_000, what: `${consumers} consumers started` });
      const readyMs = performance.now() - started;
      const cpuBefore = await treeCpuMs(daemon.pid);
      const idleFrom = performance.now();
      await new Promise((r) => setTimeout(r, IDLE_MS));
      const idleCpuPct = (await treeCpuMs(daemon.pid) - cpuBefore) /
        (performance.now() - idleFrom) *
        100;
      const { rssKiB } = await memory(daemon.pid);
      if (startedFrom !== workers) {
        throw new Error(`workers started from ${String(startedFrom)}, not from ${workers}`);
      }
      return {
        sample: {
          runtime,
          engine,
          workers,
          consumers,
          rep,
          readyMs,
          startCpuMs: cpuBefore,
          rssKiB,
          idleCpuPct,
        },
        groups: entries.map((e) => e.group),
      };
    } finally {
      await stopDaemon(daemon);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** Options for {@linkcode measureScale}. */
export interface MeasureScaleOptions {
  /** Consumer counts; 0, the baseline, is measured first. */
  counts: number[];
  reps: number;
  /** Each runtime, engine and worker entry to measure. */
  runs: Array<{ runtime: Runtime["name"]; engine: Engine; workers: WorkerEntry }>;
  brokers: string[];
  /** Makes this run's group names unique. */
  runId: string;
  /** Progress lines. */
  log: (line: string) => void;
}

/**
 * Starts the daemon with 0 and each of `counts` consumers on every runtime,
 * `reps` times; a start that fails is logged and left out.
 */
export async function measureScale(
  cluster: BenchCluster,
  { counts, reps, runs, brokers, runId, log }: MeasureScaleOptions,
): Promise<{ samples: ScaleSample[]; groups: string[] }> {
  const samples: ScaleSample[] = [];
  const groups: string[] = [];
  if (counts.length === 0 || runs.length === 0) return { samples, groups };
  log(`preparing ${Math.max(...counts)} scale topics`);
  await ensureScaleTopics(cluster, Math.max(...counts));
  for (let rep = 1; rep <= reps; rep++) {
    for (const consumers of [0, ...counts]) {
      for (const { runtime, engine, workers } of runs) {
        try {
          const result = await measureStartup({ runtime, engine, workers }, consumers, {
            brokers,
            runId: `${runId}-${rep}`,
            rep,
          });
          samples.push(result.sample);
          groups.push(...result.groups);
          log(
            `[${rep}/${reps}] start-up ${runtime} ${engine} ${workers} ${consumers} consumers: ready in ${
              Math.round(result.sample.readyMs)
            } ms, RSS ${Math.round(result.sample.rssKiB / 1024)} MiB`,
          );
        } catch (error) {
          log(
            `start-up ${runtime} ${engine} ${workers} ${consumers} consumers FAILED: ${
              (error as Error).message
            }`,
          );
        }
      }
    }
  }
  return { samples, groups };
}

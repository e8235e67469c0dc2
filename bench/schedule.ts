/**
 * The interleaved schedule: each repetition runs every client once on every
 * topic, in an order rotated by one client per repetition, so that no client
 * always runs first or right after the same one. A client that fails (or
 * cannot be prepared, e.g. built) is recorded with its error and not run again.
 *
 * @module
 */
import type { Client } from "./client.ts";
import { type ClientRuns, cpuUsPerMsg, formatNumber, msgPerSec } from "./report.ts";
import type { SeededTopic } from "./seed.ts";

/** Options for {@linkcode consumeAll}. */
export interface ScheduleOptions {
  /** Makes this run's group names unique. */
  runId: string;
  /** Progress lines. */
  log: (line: string) => void;
  /** Pause between runs, ms: lets the broker and the page cache settle. */
  pauseMs?: number;
}

function slug(text: string): string {
  return text.toLowerCase().replace(/[^a-z0-9]+/g, "-");
}

/** Runs every client on every topic, interleaved; returns the runs and the groups used. */
export async function consumeAll(
  clients: Client[],
  topics: Array<SeededTopic & { reps: number }>,
  { runId, log, pauseMs = 500 }: ScheduleOptions,
): Promise<{ runs: ClientRuns[]; groups: string[] }> {
  const runs: ClientRuns[] = topics.flatMap((topic) =>
    clients.map((client) => ({ client, topic, samples: [], failure: null }))
  );
  const groups: string[] = [];
  const failed = new Map<string, string>();
  for (const client of clients) {
    try {
      await client.prepare?.();
    } catch (error) {
      log(`${client.label}: FAILED to prepare, not run: ${(error as Error).message}`);
      failed.set(client.label, (error as Error).message.split("\n")[0] ?? String(error));
    }
  }
  const maxReps = Math.max(...topics.map((t) => t.reps));
  for (let rep = 1; rep <= maxReps; rep++) {
    // Rotate the order so that no client always runs first, or right after the same one.
    const order = clients.map((_, i) => clients[(i + rep - 1) % clients.length]!);
    for (const topic of topics.filter((t) => t.reps >= rep)) {
      for (const client of order) {
        const entry = runs.find((r) => r.client === client && r.topic === topic)!;
        const failure = failed.get(client.label);
        if (failure !== undefined) {
          entry.failure = failure;
          continue;
        }
        const group = `bench-${runId}-${slug(client.label)}-${topic.topic}-${rep}`;
        groups.push(group);
        const prefix = `[${rep}/${topic.reps}] ${topic.topic} ${client.label}`;
        try {
          const sample = await client.run(topic, group);
          entry.samples.push(sample);
          log(
            `${prefix}: ${formatNumber(msgPerSec(sample))} msg/s, ${
              formatNumber(cpuUsPerMsg(sample))
            } µs CPU/msg, ${formatNumber(sample.peakKiB / 1024)} MiB peak`,
          );
        } catch (error) {
          const message = (error as Error).message.split("\n")[0] ?? String(error);
          log(`${prefix}: FAILED, not run again: ${(error as Error).message}`);
          failed.set(client.label, message);
          entry.failure = message;
        }
        await new Promise((r) => setTimeout(r, pauseMs));
      }
    }
  }
  return { runs, groups };
}

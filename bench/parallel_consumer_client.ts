/**
 * PC: Confluent's Parallel Consumer (Java, `parallel-consumer-core` from
 * Maven Central), the library teams adopt for slow handlers, as a small
 * program (bench/clients/parallel_consumer/) built with Maven into a cached
 * class path under `.cache/bench/`. Its handler calls the wait service
 * (bench/wait_service.ts) on one of the library's `maxConcurrency` threads,
 * a blocking call over that thread's own connection; commit
 * mode is the library's default. It speaks the JavaScript clients' line
 * protocol and has their fetch settings.
 *
 * @module
 */
import { join } from "node:path";
import { cachedMavenBuild, javaArgs } from "./build_cache.ts";
import type { Client, Ordering, SlowSettings } from "./client.ts";
import { ROOT } from "./runtimes.ts";
import { measureProtocolClient } from "./script_client.ts";

/** The Maven project of the Parallel Consumer client, relative to the repository root. */
export const PARALLEL_CONSUMER_PROJECT = "bench/clients/parallel_consumer";

/** The Parallel Consumer's name for each ordering. */
export const PC_ORDERING: Record<Ordering, string> = {
  partition: "PARTITION",
  key: "KEY",
  none: "UNORDERED",
};

/** Builds the client unless the cache holds it; returns its class path. */
export function ensureParallelConsumer(): Promise<string> {
  return cachedMavenBuild({
    name: "parallel-consumer",
    project: PARALLEL_CONSUMER_PROJECT,
    sources: ["pom.xml", "ParallelConsumerBench.java"],
    jar: "bench-parallel-consumer-1.jar",
  });
}

/** The Parallel Consumer version the client's pom.xml pins, e.g. `0.5.3.3`. */
export async function parallelConsumerVersion(): Promise<string> {
  const pom = await Deno.readTextFile(join(ROOT, PARALLEL_CONSUMER_PROJECT, "pom.xml"));
  return pom.match(/<parallel-consumer\.version>([^<]+)</)?.[1] ?? "unknown";
}

/**
 * The Parallel Consumer with one ordering and `maxConcurrency`, its handler
 * calling the wait service (on the port `servicePort()` gives when the run
 * starts) and waiting `waitMs` for its answer.
 */
export function parallelConsumerClient(
  { brokers, ordering, concurrency, waitMs, servicePort }: SlowSettings & {
    brokers: string[];
    waitMs: number;
    servicePort: () => number;
  },
): Client {
  let classPath: string | null = null;
  return {
    label: `PC java slow ${PC_ORDERING[ordering]} c${concurrency}`,
    family: "PC",
    runtime: "java",
    mode: "message",
    slow: { ordering, concurrency },
    async prepare() {
      classPath = await ensureParallelConsumer();
    },
    async run(topic, group) {
      classPath ??= await ensureParallelConsumer();
      return await measureProtocolClient(
        "java",
        javaArgs(classPath, "ParallelConsumerBench", [
          brokers.join(","),
          topic.topic,
          group,
          String(topic.count),
          PC_ORDERING[ordering],
          String(concurrency),
          String(waitMs),
          String(servicePort()),
        ]),
        topic,
      );
    },
  };
}

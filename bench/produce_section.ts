/**
 * The consume→produce section: each client reads a seeded topic (100 B and
 * 1 KiB records by default) and writes one output per input, of the same
 * value, to the input's partition of an output topic, at-least-once or
 * exactly-once:
 *
 * - R: consumerd (`src/main.ts run`, Deno, workers from the bundle), a `handleBatch` handler that
 *   produces one output per message with `ctx.produce()`, `concurrency: 3`
 *   (one call per input partition at once, as B2 writes what arrived from
 *   every partition together): the platformatic engine at-least-once and
 *   exactly-once, the kafkajs engine at-least-once;
 * - B2: a raw @platformatic/kafka loop on Deno (bench/clients/platformatic_produce.mjs):
 *   at-least-once with an idempotent producer, committing a batch's offsets
 *   once its outputs were acknowledged; exactly-once with a transaction per
 *   batch that carries the offsets with the group's metadata;
 * - B0: Kafka's own Java client consuming and producing in a transaction per
 *   poll (bench/clients/java_produce/, built with Maven into `.cache/bench/`).
 *
 * The window runs from the first input the client saw (its first-message
 * line) to the moment the group's committed offsets reach the end of the
 * input: every input committed, which under either delivery comes after its
 * output was written (at-least-once: acknowledged; exactly-once: committed
 * with it). The benchmark polls the committed offsets every
 * {@linkcode COMMIT_POLL_MS} ms.
 *
 * @module
 */
import { cachedMavenBuild, javaArgs } from "./build_cache.ts";
import { jsonLine, MeasuredProcess, type Stream } from "./child.ts";
import {
  type Client,
  type Delivery,
  doneTimeoutMs,
  type Engine,
  FIRST_MESSAGE_TIMEOUT_MS,
} from "./client.ts";
import type { BenchCluster } from "./cluster.ts";
import { runDaemon } from "./daemon_client.ts";
import { memory, treeCpuMs } from "./proc.ts";
import type { ClientRuns } from "./report.ts";
import { ROOT, scriptCommand } from "./runtimes.ts";
import type { Sample } from "./sample.ts";
import { consumeAll } from "./schedule.ts";
import { clientError } from "./script_client.ts";
import { PARTITIONS, type SeededTopic, seedTopic, type TopicSize } from "./seed.ts";

/** How often the window's end (the group's committed offsets) is looked for, ms. */
export const COMMIT_POLL_MS = 20;

/** The Maven project of the Java client, relative to the repository root. */
export const JAVA_PRODUCE_PROJECT = "bench/clients/java_produce";

/** The short name of a delivery in labels and client arguments. */
export const DELIVERY_SHORT: Record<Delivery, "alo" | "eos"> = {
  "at-least-once": "alo",
  "exactly-once": "eos",
};

/**
 * The output topic of an input topic.
 *
 * @example
 * ```ts
 * outputTopic("bench-100b-200000"); // "bench-100b-200000-produced"
 * ```
 */
export function outputTopic(input: string): string {
  return `${input}-produced`;
}

/** How a client marks its first input. */
type FirstMarker = (record: Record<string, unknown>, stream: Stream) => boolean;

/**
 * Waits for `process`'s first input, then for `group` to have committed
 * every input of `topic`; samples CPU time at both ends and peak memory at
 * the last. The process keeps running; the caller stops it.
 */
export async function measureToCommitted(
  process: MeasuredProcess,
  first: FirstMarker,
  { cluster, topic, group }: { cluster: BenchCluster; topic: SeededTopic; group: string },
): Promise<Sample> {
  // Rejects when the process exits (or the run times out); never resolves.
  const ended = process.waitForLine(() => false, {
    timeoutMs: FIRST_MESSAGE_TIMEOUT_MS + doneTimeoutMs(topic),
    what: "every input committed",
  });
  ended.catch(() => {});
  try {
    await process.waitForLine((line, stream) => {
      if (!line.startsWith("{")) return false;
      try {
        return first(JSON.parse(line), stream);
      } catch {
        return false;
      }
    }, { timeoutMs: FIRST_MESSAGE_TIMEOUT_MS, what: "the first input" });
    const t0 = performance.now();
    const cpuAtFirst = await treeCpuMs(process.pid);
    const allCommitted = async () => {
      while (await cluster.committed(group, topic.topic) < topic.count) {
        await new Promise((resolve) => setTimeout(resolve, COMMIT_POLL_MS));
      }
    };
    await Promise.race([allCommitted(), ended]);
    const elapsedMs = performance.now() - t0;
    const cpuAtDone = await treeCpuMs(process.pid);
    const { peakKiB } = await memory(process.pid);
    return {
      messages: topic.count,
      bytes: topic.count * topic.recordBytes,
      elapsedMs,
      cpuMs: cpuAtDone - cpuAtFirst,
      cpuScope: "window",
      peakKiB,
    };
  } catch (error) {
    const why = clientError(process.tail) ?? lastLoggedError(process.tail);
    const waited = (error as Error).message.split("\n")[0];
    throw new Error(why === null ? (error as Error).message : `${why} (${waited})`, {
      cause: error,
    });
  }
}

/**
 * The last error a daemon logged (`"level":"error"`): its message and error, or null.
 *
 * @example
 * ```ts
 * lastLoggedError(['{"level":"error","msg":"consumer crashed","error":"boom"}']); // "consumer crashed: boom"
 * ```
 */
export function lastLoggedError(tail: readonly string[]): string | null {
  for (const line of [...tail].reverse()) {
    const record = jsonLine(line);
    if (record?.level !== "error") continue;
    return record.error === undefined
      ? String(record.msg)
      : `${String(record.msg)}: ${String(record.error)}`;
  }
  return null;
}

/**
 * The source of consumerd's handler module: a `handleBatch` that produces
 * one output per message (its value, to its partition of `output`) and logs
 * `bench-first` at its first call.
 *
 * @example
 * ```ts
 * const source = produceHandlerSource("bench-100b-200000-produced");
 * ```
 */
export function produceHandlerSource(output: string): string {
  return `// Generated by bench/produce_section.ts for one benchmark run.
interface Message {
  partition: number;
  value: Uint8Array | null;
}
interface Ctx {
  log: { info(message: string): void };
  produce(record: { topic: string; value: Uint8Array | null; partition: number }): Promise<void>;
}

const OUTPUT = ${JSON.stringify(output)};
let started = false;

export async function handleBatch(messages: Message[], ctx: Ctx): Promise<void> {
  if (!started) {
    started = true;
    ctx.log.info("bench-first");
  }
  await Promise.all(
    messages.map((m) => ctx.produce({ topic: OUTPUT, value: m.value, partition: m.partition })),
  );
}
`;
}

/** What every client of the section needs: the brokers, and the cluster for the committed offsets. */
interface SectionClientOptions {
  brokers: string[];
  cluster: BenchCluster;
  delivery: Delivery;
  /** Flags for the Deno processes (the profiler's). */
  denoFlags?: string[];
}

/** consumerd on Deno with one engine and delivery. */
export function daemonProduceClient(
  { brokers, cluster, delivery, engine, denoFlags = [] }: SectionClientOptions & {
    engine: Engine;
  },
): Client {
  return {
    label: `R deno ${engine} produce ${DELIVERY_SHORT[delivery]}`,
    family: "R",
    runtime: "deno",
    mode: "batch",
    engine,
    delivery,
    run: (topic, group) =>
      runDaemon(
        "deno",
        {
          brokers,
          engine,
          topic: topic.topic,
          group,
          handlerSource: produceHandlerSource(outputTopic(topic.topic)),
          fields: { outputs: [outputTopic(topic.topic)], delivery, concurrency: 3 },
        },
        { denoFlags },
        (daemon) =>
          measureToCommitted(daemon, (r) => r.msg === "bench-first", { cluster, topic, group }),
      ),
  };
}

/** Runs a client process that speaks the `{"bench":"first"}` line, measured to every input committed. */
async function measureLoop(
  command: string,
  args: string[],
  { cluster, topic, group }: { cluster: BenchCluster; topic: SeededTopic; group: string },
): Promise<Sample> {
  const process = new MeasuredProcess(command, args, { cwd: ROOT, stdin: true });
  try {
    return await measureToCommitted(
      process,
      (r, stream) => stream === "stdout" && r.bench === "first",
      { cluster, topic, group },
    );
  } finally {
    await process.closeStdin();
    await process.stop(10_000);
  }
}

/** The raw @platformatic/kafka consume→produce loop on Deno. */
export function platformaticProduceClient(
  { brokers, cluster, delivery, denoFlags = [] }: SectionClientOptions,
): Client {
  return {
    label: `B2 deno produce ${DELIVERY_SHORT[delivery]}`,
    family: "B2",
    runtime: "deno",
    mode: "batch",
    delivery,
    async run(topic, group) {
      const [command, args] = scriptCommand("deno", "bench/clients/platformatic_produce.mjs", [
        brokers.join(","),
        topic.topic,
        group,
        outputTopic(topic.topic),
        DELIVERY_SHORT[delivery],
      ], { denoFlags });
      return await measureLoop(command, args, { cluster, topic, group });
    },
  };
}

/** Builds the Java client unless the cache holds it; returns its class path. */
export function ensureJavaProduce(): Promise<string> {
  return cachedMavenBuild({
    name: "java-produce",
    project: JAVA_PRODUCE_PROJECT,
    sources: ["pom.xml", "ProduceBench.java"],
    jar: "bench-java-produce-1.jar",
  });
}

/** Kafka's Java client consuming and producing (exactly-once: a transaction per poll). */
export function javaProduceClient({ brokers, cluster, delivery }: SectionClientOptions): Client {
  let classPath: string | null = null;
  return {
    label: `B0 java produce ${DELIVERY_SHORT[delivery]}`,
    family: "B0",
    runtime: "java",
    mode: "poll",
    delivery,
    async prepare() {
      classPath = await ensureJavaProduce();
    },
    async run(topic, group) {
      classPath ??= await ensureJavaProduce();
      return await measureLoop(
        "java",
        javaArgs(classPath, "ProduceBench", [
          brokers.join(","),
          topic.topic,
          group,
          outputTopic(topic.topic),
          DELIVERY_SHORT[delivery],
        ]),
        { cluster, topic, group },
      );
    },
  };
}

/** The section's clients, in their base order. */
export function produceClients(
  { brokers, cluster }: { brokers: string[]; cluster: BenchCluster },
): Client[] {
  const alo = { brokers, cluster, delivery: "at-least-once" as const };
  const eos = { brokers, cluster, delivery: "exactly-once" as const };
  return [
    daemonProduceClient({ ...alo, engine: "platformatic" }),
    daemonProduceClient({ ...eos, engine: "platformatic" }),
    daemonProduceClient({ ...alo, engine: "kafkajs" }),
    platformaticProduceClient(alo),
    platformaticProduceClient(eos),
    javaProduceClient(eos),
  ];
}

/** Options for {@linkcode runProduceSection}. */
export interface ProduceSectionOptions {
  brokers: string[];
  sizes: Array<TopicSize & { reps: number }>;
  runId: string;
  /** Whether `--only` selects a client label. */
  selected: (label: string) => boolean;
  log: (line: string) => void;
}

/**
 * Seeds the input topics (shared with the consume section), makes their
 * output topics, and runs the selected clients interleaved; the output
 * topics are deleted afterwards. Returns null when `--only` selects none.
 */
export async function runProduceSection(
  cluster: BenchCluster,
  options: ProduceSectionOptions,
): Promise<{ runs: ClientRuns[]; groups: string[] } | null> {
  const clients = produceClients({ brokers: options.brokers, cluster })
    .filter((c) => options.selected(c.label));
  if (clients.length === 0) return null;
  const topics: Array<SeededTopic & { reps: number }> = [];
  const outputs: string[] = [];
  try {
    for (const size of options.sizes) {
      const seeded = await seedTopic(cluster, size, options);
      // Slower than a plain read: a run may take five times as long before it times out.
      topics.push({ ...seeded, reps: size.reps, minRate: 1_000 });
      const output = outputTopic(seeded.topic);
      await cluster.deleteTopics([output]);
      await waitForNoTopic(cluster, output);
      await cluster.createTopic(output, PARTITIONS);
      outputs.push(output);
    }
    return await consumeAll(clients, topics, { runId: options.runId, log: options.log });
  } finally {
    await cluster.deleteTopics(outputs);
  }
}

async function waitForNoTopic(cluster: BenchCluster, topic: string): Promise<void> {
  for (let i = 0; i < 100 && await cluster.partitions(topic) !== null; i++) {
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

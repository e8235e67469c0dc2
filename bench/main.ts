/**
 * `deno task bench`: consumerd side by side with raw kafkajs,
 * @platformatic/kafka, Kafka's own Java consumer and franz-go, against the local broker
 * (`KAFKA_BROKERS`, default 127.0.0.1:9092). `--quick` is a smoke run;
 * `--help` lists the options.
 *
 * What it does:
 *
 * 1. Seeds one topic per size (3 partitions; 100 B × 1,000,000 and
 *    1 KiB × 300,000 records by default) with Kafka's ProducerPerformance
 *    tool, or reuses the topic when it already holds exactly that (bench/seed.ts).
 * 2. Consumes each topic from earliest with a fresh group per run, with a
 *    no-op handler that sums the values' byte lengths, in each client:
 *    - B0: Kafka's ConsumerPerformance tool (bench/java_client.ts);
 *    - B3: franz-go, a small Go program built with the machine's Go
 *      (bench/franz_client.ts), the fastest client we know of;
 *    - B1: raw kafkajs, eachBatch and eachMessage, on Node, Deno and Bun;
 *    - B2: raw @platformatic/kafka (its message stream) on Node, Deno and Bun;
 *    - R: consumerd, `src/main.ts run` with one consumer and one worker,
 *      commit mode auto, a per-message and a `handleBatch` handler, on Deno
 *      and Bun, with each engine (kafkajs and platformatic) (bench/daemon_client.ts).
 *    Every JavaScript client fetches with kafkajs's defaults as consumerd's
 *    balanced session sets them: maxWaitTime 500 ms, minBytes 1, maxBytes
 *    10 MiB, 1 MiB per partition; B0 and B3 get the same through their options.
 *    Runs are interleaved (bench/schedule.ts): each repetition runs every
 *    client once, in an order rotated by one client per repetition. A client
 *    that fails is reported with its error and not run again.
 * 3. Measures each run the same way (bench/sample.ts): messages/s and MiB/s
 *    from the first to the last message the handler saw (timed inside the
 *    handler with `performance.now()`); CPU time per message from
 *    /proc/<pid>/stat (user + system of the process and its descendants, all
 *    threads — the daemon's workers included), sampled when the first-message
 *    line is read and again at the last; peak resident memory (VmHWM) at the
 *    end. B0 is the exception: its rate is the tool's `fetch.nMsg.sec`, and
 *    its CPU time covers the JVM's whole life.
 * 4. The slow-handler section (bench/slow_handler.ts): a handler that waits
 *    20 ms per message, consumerd (`concurrency`, `ordering`) beside
 *    Confluent's Parallel Consumer (bench/parallel_consumer_client.ts) at the
 *    same ordering and concurrency, each rate against the ideal.
 * 5. The consume→produce section (bench/produce_section.ts): one output
 *    per input, consumerd at-least-once and exactly-once beside a raw
 *    @platformatic/kafka loop and Kafka's Java client doing the same, timed
 *    from the first input to every input committed.
 * 6. Starts the daemon with 0, 1, 10 and 50 consumers, each on its own small
 *    topic, for the time until every consumer is ready and the resident
 *    memory per worker (bench/scale.ts).
 * 7. Prints a Markdown report (medians with min–max over the runs, R/B1 on
 *    the same runtime and handler mode, each client ÷ B0 and ÷ B3) and writes it to
 *    bench/results/<date>-<commit>.md (`-quick.md` for a smoke run).
 *
 * Where the CPU time goes is a separate tool, bench/profile.ts (V8's sampling
 * profiler on the Deno clients, attributed by source file).
 *
 * Nothing here asserts on time: the benchmark is only this task.
 *
 * @module
 */
import { join } from "node:path";
import type { Client } from "./client.ts";
import { BenchCluster } from "./cluster.ts";
import { runContext, srcChangedWarning } from "./context.ts";
import { daemonClient } from "./daemon_client.ts";
import { franzClient } from "./franz_client.ts";
import { javaClient } from "./java_client.ts";
import { type BenchOptions, parseBenchArgs } from "./options.ts";
import { METHOD_NOTES, renderReport } from "./report.ts";
import { type JsRuntime, ROOT } from "./runtimes.ts";
import { measureScale } from "./scale.ts";
import { buildWorkerBundle } from "../scripts/build.ts";
import { consumeAll } from "./schedule.ts";
import { scriptClient } from "./script_client.ts";
import { type SeededTopic, seedTopic } from "./seed.ts";
import { runSlowSection } from "./slow_handler.ts";
import { runProduceSection } from "./produce_section.ts";

const log = (line: string) => console.error(line);

/** Every client the benchmark knows, in their base order. */
function allClients(brokers: string[]): Client[] {
  const runtimes: JsRuntime[] = ["node", "deno", "bun"];
  const kafkajs = "bench/clients/kafkajs_consumer.mjs";
  const platformatic = "bench/clients/platformatic_consumer.mjs";
  return [
    javaClient({ brokers }),
    franzClient({ brokers }),
    ...runtimes.flatMap((runtime) => [
      scriptClient({
        family: "B1",
        runtime,
        mode: "batch",
        modeName: "eachBatch",
        script: kafkajs,
        brokers,
      }),
      scriptClient({
        family: "B1",
        runtime,
        mode: "message",
        modeName: "eachMessage",
        script: kafkajs,
        brokers,
      }),
    ]),
    ...runtimes.map((runtime) =>
      scriptClient({
        family: "B2",
        runtime,
        mode: "message",
        modeName: "stream",
        script: platformatic,
        brokers,
      })
    ),
    ...(["deno", "bun"] as const).flatMap((runtime) =>
      (["kafkajs", "platformatic"] as const).flatMap((engine) => [
        daemonClient({ runtime, mode: "message", brokers, engine }),
        daemonClient({ runtime, mode: "batch", brokers, engine }),
      ])
    ),
  ];
}

/** Whether `--only` selects a label (start-up runs are labelled `R <runtime> scale`). */
function matches(options: BenchOptions, label: string): boolean {
  return options.only.length === 0 || options.only.some((o) => label.toLowerCase().includes(o));
}

async function main(args: string[]): Promise<number> {
  let options: BenchOptions;
  try {
    options = parseBenchArgs(args, { KAFKA_BROKERS: Deno.env.get("KAFKA_BROKERS") });
  } catch (error) {
    console.error((error as Error).message);
    return 2;
  }
  const began = performance.now();
  const runId = Date.now().toString(36);
  let cluster: BenchCluster;
  try {
    cluster = await BenchCluster.connect(options.brokers);
  } catch (error) {
    console.error(
      `Cannot reach Kafka at ${options.brokers.join(",")}: ${(error as Error).message}\n` +
        "Start the local broker with `node_modules/deno/deno run -A scripts/kafka.ts up`.",
    );
    return 1;
  }
  // R and the start-up rows run the daemon as deployed: workers from the bundle.
  const bundle = await buildWorkerBundle();
  log(`worker bundle built from ${Object.keys(bundle.inputs).length} files`);
  const run = await runContext(args, options.brokers);
  const context = [...run.lines];
  const groups: string[] = [];
  try {
    const clients = allClients(options.brokers).filter((c) => matches(options, c.label));
    const topics: Array<SeededTopic & { reps: number }> = [];
    // Seeding takes a while: only when a client will read the topics.
    for (const size of clients.length === 0 ? [] : options.sizes) {
      const seeded = await seedTopic(cluster, size, { brokers: options.brokers, log });
      topics.push({ ...seeded, reps: size.reps });
    }
    const runsPerClient = (reps: number) => `${reps} run${reps === 1 ? "" : "s"}`;
    if (topics.length > 0) {
      context.push(
        `Topics: ${
          topics.map((t) => `${t.topic} (${runsPerClient(t.reps)} per client)`).join(", ")
        }`,
      );
    }
    const consumed = await consumeAll(clients, topics, { runId, log });
    groups.push(...consumed.groups);
    const slow = options.slowHandler
      ? await runSlowSection(cluster, {
        brokers: options.brokers,
        orderings: options.orderings,
        concurrency: options.concurrency,
        runtimes: options.slowRuntimes,
        windowS: options.slowWindowS,
        reps: options.slowReps,
        runId,
        selected: (label) => matches(options, label),
        log,
      })
      : null;
    if (slow !== null) {
      groups.push(...slow.groups);
      context.push(
        `Slow-handler topic: ${slow.report.topic.topic} (${
          runsPerClient(options.slowReps)
        } per row)`,
      );
    }
    const produce = options.produce
      ? await runProduceSection(cluster, {
        brokers: options.brokers,
        sizes: options.produceSizes,
        runId,
        selected: (label) => matches(options, label),
        log,
      })
      : null;
    if (produce !== null) {
      groups.push(...produce.groups);
      context.push(
        `Consume → produce topics: ${
          [...new Set(produce.runs.map((r) => r.topic.topic))].join(", ")
        } (${runsPerClient(options.produceSizes[0]?.reps ?? 1)} per client)`,
      );
    }
    const scale = await measureScale(cluster, {
      counts: options.scale,
      reps: options.scaleReps,
      runs: (["deno", "bun"] as const).flatMap((runtime) =>
        (["kafkajs", "platformatic"] as const)
          .filter((engine) => matches(options, `R ${runtime} ${engine} scale`))
          .flatMap((engine) =>
            (["bundle", "source"] as const).map((workers) => ({ runtime, engine, workers }))
          )
      ),
      brokers: options.brokers,
      runId,
      log,
    });
    groups.push(...scale.groups);
    context.push(`Duration: ${Math.round((performance.now() - began) / 1000)} s`);
    const warning = await srcChangedWarning(run);
    if (warning !== null) context.push(warning);
    const report = renderReport({
      title: `consumerd benchmark${options.quick ? " (quick smoke run)" : ""}`,
      context,
      runs: consumed.runs,
      slow: slow?.report ?? null,
      produce: produce?.runs ?? null,
      scale: scale.samples,
      notes: METHOD_NOTES,
    });
    console.log(report);
    if (options.outDir !== null) {
      const date = new Date().toISOString().slice(0, 10);
      const name = `${date}-${run.sha}${options.quick ? "-quick" : ""}.md`;
      const dir = join(ROOT, options.outDir);
      await Deno.mkdir(dir, { recursive: true });
      await Deno.writeTextFile(join(dir, `${name}.tmp`), report);
      await Deno.rename(join(dir, `${name}.tmp`), join(dir, name));
      log(`report written to ${join(options.outDir, name)}`);
    }
    return 0;
  } finally {
    await cluster.deleteGroups(groups);
    await cluster.close();
  }
}

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}

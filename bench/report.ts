/**
 * The benchmark's report: Markdown tables of throughput, CPU and memory per
 * client and topic, ratios of consumerd (R) to the raw client of its engine
 * (B1, B2), to Kafka's Java consumer (B0) and to franz-go (B3), the
 * slow-handler table (consumerd beside Confluent's Parallel Consumer), and
 * the start-up and scale table.
 *
 * @module
 */
import { type Client, type Ordering, ORDERINGS } from "./client.ts";
import type { Sample } from "./sample.ts";
import type { ScaleSample } from "./scale.ts";
import { PARTITIONS, type SeededTopic } from "./seed.ts";
import { type Spread, spread } from "./stats.ts";

/** Every run of one client on one topic. */
export interface ClientRuns {
  client: Pick<Client, "label" | "family" | "runtime" | "mode" | "engine" | "slow" | "delivery">;
  topic: SeededTopic;
  samples: Sample[];
  /** Why the client stopped being run, if it failed. */
  failure: string | null;
}

/** The slow-handler topic with its key count. */
export type SlowTopic = SeededTopic & { keys: number };

/** What the slow-handler section ran (bench/slow_handler.ts). */
export interface SlowReport {
  topic: SlowTopic;
  /** The handler's wait per message, ms. */
  waitMs: number;
  /** The window each row's count is sized for, s. */
  windowS: number;
  runs: ClientRuns[];
  /** consumerd orderings this build's check rejects, with its message. */
  skipped: Array<{ ordering: Ordering; reason: string }>;
  /**
   * How long a `waitMs` setTimeout lasted on each runtime consumerd ran on
   * (median of 100 in a row, ms): the runtime's own floor under the ideal.
   */
  timerMs?: Partial<Record<"deno" | "bun", number>>;
}

/** Everything the report shows. */
export interface ReportInput {
  title: string;
  /** Lines of context (date, commit, machine, versions, command), shown as a list. */
  context: string[];
  runs: ClientRuns[];
  /** The slow-handler section, if it ran. */
  slow?: SlowReport | null;
  /** The consume→produce section's runs, if it ran (bench/produce_section.ts). */
  produce?: ClientRuns[] | null;
  scale: ScaleSample[];
  /** Paragraphs after the tables: method and caveats. */
  notes: readonly string[];
}

/** How every figure is measured: the report's closing paragraphs. */
export const METHOD_NOTES: readonly string[] = [
  "Rates: messages (and MiB of values) from the first to the last message the handler saw, timed inside the handler with `performance.now()`: start-up and group join are excluded. B0 reports Kafka ConsumerPerformance's `fetch.nMsg.sec` / `fetch.MB.sec` (its MB is MiB; join excluded).",
  "CPU µs/msg: user + system time from /proc/<pid>/stat of the client process and its descendants (all threads, so the daemon's Web Workers and the JVM's threads count), sampled when the benchmark read the client's first-message line and again at its last-message line, divided by the messages. The sampling lag is a few ms at each end; the clock tick is 10 ms. B0 (¹) is the JVM's total.",
  "Peak RSS: VmHWM from /proc/<pid>/status at the last message (whole process life, start-up included).",
  "Fetch settings: every JavaScript client uses maxWaitTime 500 ms, minBytes 1, maxBytes 10 MiB, 1 MiB per partition (kafkajs's defaults as src/kafka/kafkajs/balanced_session.ts keeps them); B0 the same through fetch.max.wait.ms, fetch.min.bytes, fetch.max.bytes and max.partition.fetch.bytes, with the JVM's full JIT (-Xmx512m, G1); B3 (franz-go) through FetchMaxWait, FetchMinBytes, FetchMaxBytes and FetchMaxPartitionBytes (built with the machine's Go, default GOMAXPROCS and GC).",
  "Handlers: each sums `value.byteLength` of every message and counts to the topic's size. B1 eachBatch / eachMessage are kafkajs's callbacks (auto-commit on); B2 reads @platformatic/kafka's message stream (autocommit on); R is `src/main.ts run` with one consumer, one worker, commit mode auto, and a generated handler module (default export per message, or handleBatch). R/B1·B2 compares R with the raw client of its engine on the same runtime: the kafkajs engine with B1 in the same handler mode (per-message ↔ eachMessage, handleBatch ↔ eachBatch), the platformatic engine with B2 (its message stream, for both handler modes); B3 polls franz-go's fetches (`PollFetches`) and calls a function per record (group auto-commit, franz-go's default); ÷B0 and ÷B3 divide a client's median rate by B0's and B3's.",
  "Start-up: from spawning the daemon to its last `consumer started` record (every consumer has its partition and committed its start position), each consumer on its own 1-partition topic of 100 records; with 0 consumers, to its `starting` record. CPU to ready: user + system time of the daemon (all its threads, the workers included) over the same span, from /proc. Memory: VmRSS after the daemon was ready and idle for 3 s; per worker = (RSS with N − RSS with 0) / N. Idle CPU: the daemon's CPU time over those 3 s, in % of one core. Ready ÷ kafkajs: each repetition starts every row's daemon one after the other; a row's time to ready divided by the kafkajs engine's with the same runtime, workers and consumers in the same repetition, median (min–max) over the repetitions. Workers: `bundle` starts them from `dist/worker/` (built by `deno task build` at the start of the run, as the image does), `source` from the TypeScript sources (`CONSUMERD_WORKER_ENTRY=source`); R rows above use the bundle.",
  "Slow handler: consumerd is `src/main.ts run` on Deno (and on Bun, with `--slow-runtimes`) with the kafkajs engine, one consumer, one worker, commit mode auto, `concurrency: N` (and `ordering:` for key and none; partition is the default and is left out), and a per-message handler that calls the wait service and then counts the message. The wait service (bench/clients/wait_server/, Go, standard library) answers each request line `20\\n` on a TCP connection on 127.0.0.1 with `\\n` 20 ms later; a handler keeps one connection per call in flight (consumerd's: a pool in the handler module, `Deno.connect` on Deno and `node:net` on Bun; PC's: one per handler thread, a blocking socket). PC is Confluent's Parallel Consumer (parallel-consumer-core, on its kafka-clients) with ordering PARTITION, KEY or UNORDERED, maxConcurrency N (N threads, each handler call a blocking request to the same service), its default commit mode (PERIODIC_CONSUMER_ASYNCHRONOUS), the same fetch settings, -Xmx512m, G1. Both start from earliest with a fresh group; the window runs from the first handler call's start to the end of the counted-to call (CPU and memory as above).",
  "Consume → produce: each input is written once to the input's partition of an output topic (3 partitions), same value, no key. R is `src/main.ts run` on Deno, one consumer, one worker (from the bundle, as the R rows above), commit mode auto, `concurrency: 3` (a call per input partition at once), `outputs:` and `delivery:`, and a `handleBatch` handler that calls `ctx.produce()` for every message and awaits them together (at-least-once: the worker's idempotent producer of its engine, acks all; exactly-once: a transaction per commit, platformatic engine). B2 is a raw @platformatic/kafka loop on Deno that takes what arrived while its previous batch was written as one batch: at-least-once, an idempotent producer (acks all) and a commit of the batch's offsets after its acks; exactly-once, one transaction per batch with the offsets added under the consumer's group metadata. B0 is Kafka's Java client (kafka-clients, read_committed): a transaction per poll with sendOffsetsToTransaction. Same fetch settings as above. The window runs from the client's first-input line to the moment the benchmark sees the group's committed offsets at the end of the input (polled every 20 ms): every input committed, after its output was acknowledged (at-least-once) or in the transaction that wrote it (exactly-once). EOS÷ALO divides a client's exactly-once rate by its own at-least-once rate; ÷B2 divides consumerd's rate by the raw platformatic loop's in the same delivery mode.",
  "Everything shares the machine with the broker (and with whatever else ran): figures are comparable within one run, not across machines.",
];

const MIB = 1024 * 1024;

/** Messages per second of a sample. */
export const msgPerSec = (s: Sample): number => s.messages / (s.elapsedMs / 1000);
/** MiB of values per second of a sample. */
export const mibPerSec = (s: Sample): number => s.bytes / MIB / (s.elapsedMs / 1000);
/** CPU time per message, µs. */
export const cpuUsPerMsg = (s: Sample): number => (s.cpuMs * 1000) / s.messages;

/** Formats a number with three significant digits at most (integers with separators). */
export function formatNumber(n: number): string {
  if (!Number.isFinite(n)) return "–";
  if (Math.abs(n) >= 100) {
    const digits = Math.floor(Math.log10(Math.abs(n))) + 1;
    const rounded = Math.round(n / 10 ** (digits - 3)) * 10 ** (digits - 3);
    return rounded.toLocaleString("en-US");
  }
  return n.toPrecision(3).replace(/\.?0+$/, "");
}

function formatSpread(s: Spread): string {
  return s.runs === 1
    ? formatNumber(s.median)
    : `${formatNumber(s.median)} (${formatNumber(s.min)}–${formatNumber(s.max)})`;
}

function handlerName(client: ClientRuns["client"]): string {
  const words = client.label.split(" ").slice(2);
  const last = (client.engine === undefined ? words : words.slice(1)).join(" ");
  return last === "" ? client.mode : last;
}

/**
 * The raw client R is compared with: B1 (raw kafkajs) on the same runtime
 * with the same handler mode for the kafkajs engine; B2 (raw
 * @platformatic/kafka, whose stream hands over one message at a time) on
 * the same runtime for the platformatic engine.
 */
function twin(runs: ClientRuns[], r: ClientRuns): ClientRuns | undefined {
  const platformatic = r.client.engine === "platformatic";
  return runs.find((b) =>
    b.client.family === (platformatic ? "B2" : "B1") && b.client.runtime === r.client.runtime &&
    (platformatic || b.client.mode === r.client.mode) && b.topic.topic === r.topic.topic &&
    b.samples.length > 0
  );
}

function ratio(a: ClientRuns | undefined, b: ClientRuns | undefined): string {
  if (a === undefined || b === undefined || a.samples.length === 0 || b.samples.length === 0) {
    return "–";
  }
  return (spread(a.samples.map(msgPerSec)).median / spread(b.samples.map(msgPerSec)).median)
    .toFixed(2);
}

/** A row's msg/s, MiB/s, CPU µs/msg (¹ when it is the whole process life) and peak RSS cells. */
function measuredCells(samples: Sample[]): string[] {
  if (samples.length === 0) return ["–", "–", "–", "–"];
  return [
    formatSpread(spread(samples.map(msgPerSec))),
    formatSpread(spread(samples.map(mibPerSec))),
    formatSpread(spread(samples.map(cpuUsPerMsg))) +
    (samples[0]!.cpuScope === "total" ? " ¹" : ""),
    formatSpread(spread(samples.map((s) => s.peakKiB / 1024))),
  ];
}

function topicTable(runs: ClientRuns[]): string[] {
  const anchor = (family: "B0" | "B3") =>
    runs.find((r) => r.client.family === family && r.samples.length > 0);
  const b0 = anchor("B0");
  const b3 = anchor("B3");
  const lines = [
    "| client | engine | runtime | handler | runs | msg/s median (min–max) | MiB/s median (min–max) | CPU µs/msg median (min–max) | peak RSS MiB median (min–max) | R/B1·B2 | ÷B0 | ÷B3 |",
    "| --- | --- | --- | --- | --: | --: | --: | --: | --: | --: | --: | --: |",
  ];
  for (const r of runs) {
    const { client, samples } = r;
    const cells = measuredCells(samples);
    lines.push(
      `| ${client.family}${r.failure === null ? "" : " ²"} | ${
        engineOf(client)
      } | ${client.runtime} | ${handlerName(client)} | ${samples.length} | ${cells.join(" | ")} | ${
        client.family === "R" ? ratio(r, twin(runs, r)) : ""
      } | ${client.family === "B0" ? "" : ratio(r, b0)} | ${
        client.family === "B3" ? "" : ratio(r, b3)
      } |`,
    );
  }
  return lines;
}

/** The client library a row reads with. */
function engineOf(client: ClientRuns["client"]): string {
  if (client.engine !== undefined) return client.engine;
  return {
    B0: "java",
    B1: "kafkajs",
    B2: "platformatic",
    B3: "franz-go",
    R: "kafkajs",
    PC: "parallel-consumer",
  }[client.family];
}

/**
 * A start-up's time to ready divided by the kafkajs engine's in the same
 * repetition (same runtime, workers and consumers), over the repetitions
 * that have both; null for the kafkajs rows, the baseline and when no
 * repetition has both.
 *
 * @example
 * ```ts
 * const at = (engine: "kafkajs" | "platformatic", rep: number, readyMs: number) => ({
 *   runtime: "deno" as const, engine, workers: "bundle" as const, consumers: 50, rep, readyMs,
 *   startCpuMs: 0, rssKiB: 0, idleCpuPct: 0,
 * });
 * const all = [at("kafkajs", 1, 2000), at("platformatic", 1, 1900), at("kafkajs", 2, 3000), at("platformatic", 2, 3300)];
 * readyToKafkajs(all.filter((s) => s.engine === "platformatic"), all)?.median; // 1.025
 * ```
 */
export function readyToKafkajs(group: ScaleSample[], samples: ScaleSample[]): Spread | null {
  const ratios: number[] = [];
  for (const s of group) {
    if (s.engine === "kafkajs" || s.consumers === 0) continue;
    const base = samples.find((b) =>
      b.engine === "kafkajs" && b.runtime === s.runtime && b.workers === s.workers &&
      b.consumers === s.consumers && b.rep === s.rep
    );
    if (base !== undefined) ratios.push(s.readyMs / base.readyMs);
  }
  return ratios.length === 0 ? null : spread(ratios);
}

function scaleTable(samples: ScaleSample[]): string[] {
  const lines = [
    "| runtime | engine | workers | consumers | runs | ready after, ms median (min–max) | ready ÷ kafkajs, same rep | CPU to ready, ms median | daemon RSS MiB median (min–max) | per worker MiB | idle CPU % of a core |",
    "| --- | --- | --- | --: | --: | --: | --: | --: | --: | --: | --: |",
  ];
  const key = (s: ScaleSample) => `${s.runtime}:${s.engine}:${s.workers}:${s.consumers}`;
  const keys = [...new Set(samples.map(key))];
  for (const k of keys) {
    const group = samples.filter((s) => key(s) === k);
    const { runtime, engine, workers, consumers } = group[0]!;
    const rss = spread(group.map((s) => s.rssKiB / 1024));
    const base = samples.filter((s) =>
      s.runtime === runtime && s.engine === engine && s.workers === workers && s.consumers === 0
    );
    const perWorker = consumers === 0 || base.length === 0
      ? "–"
      : formatNumber((rss.median - spread(base.map((s) => s.rssKiB / 1024)).median) / consumers);
    const ratio = readyToKafkajs(group, samples);
    lines.push(
      `| ${runtime} | ${engine} | ${workers} | ${consumers} | ${group.length} | ${
        formatSpread(spread(group.map((s) => s.readyMs)))
      } | ${ratio === null ? "–" : formatSpread(ratio)} | ${
        formatNumber(spread(group.map((s) => s.startCpuMs)).median)
      } | ${formatSpread(rss)} | ${perWorker} | ${
        formatNumber(spread(group.map((s) => s.idleCpuPct)).median)
      } |`,
    );
  }
  return lines;
}

/** The "² Not run (further)" footnote for the runs that failed, or nothing. */
function failureNotes(runs: ClientRuns[]): string[] {
  const failures = runs.filter((r) => r.failure !== null);
  if (failures.length === 0) return [];
  const out = ["² Not run (further), because it failed:", ""];
  const seen = new Set<string>();
  for (const f of failures) {
    if (seen.has(f.client.label)) continue;
    seen.add(f.client.label);
    out.push(`- ${f.client.label} (${f.topic.topic}): ${f.failure}`);
  }
  out.push("");
  return out;
}

/**
 * The ideal rate of a slow-handler row, msg/s: `concurrency` calls of
 * `waitMs` each, all busy all the time.
 *
 * @example
 * ```ts
 * idealRate(256, 20); // 12,800
 * ```
 */
export function idealRate(concurrency: number, waitMs: number): number {
  return (concurrency * 1000) / waitMs;
}

function medianRate(r: ClientRuns | undefined): number {
  return r === undefined || r.samples.length === 0 ? NaN : spread(r.samples.map(msgPerSec)).median;
}

/** A slow-handler rate cell: the spread, or why there is none. */
function slowCell(r: ClientRuns | undefined, skipped: boolean): string {
  if (r !== undefined && r.samples.length > 0) {
    return formatSpread(spread(r.samples.map(msgPerSec))) + (r.failure === null ? "" : " ²");
  }
  if (r?.failure) return "failed ²";
  return skipped ? "skipped ³" : "–";
}

/** The slow-handler section: consumerd beside the Parallel Consumer, then every row's detail. */
function slowSection(slow: SlowReport): string[] {
  const { topic, waitMs, runs, skipped } = slow;
  const settings = [
    ...new Map(
      runs.flatMap((r) => r.client.slow === undefined ? [] : [r.client.slow])
        .map((s) => [`${s.ordering}:${s.concurrency}`, s]),
    ).values(),
  ].sort((a, b) =>
    ORDERINGS.indexOf(a.ordering) - ORDERINGS.indexOf(b.ordering) ||
    a.concurrency - b.concurrency
  );
  const find = (
    family: "R" | "PC",
    s: { ordering: Ordering; concurrency: number },
    runtime?: string,
  ) =>
    runs.find((r) =>
      r.client.family === family && r.client.slow?.ordering === s.ordering &&
      r.client.slow.concurrency === s.concurrency &&
      (runtime === undefined || r.client.runtime === runtime)
    );
  const runtimes = [
    ...new Set(runs.filter((r) => r.client.family === "R").map((r) => r.client.runtime)),
  ];
  if (runtimes.length === 0) runtimes.push("deno");
  const timers = Object.entries(slow.timerMs ?? {}).map(([runtime, ms]) =>
    `${runtime} ${ms.toFixed(2)} ms (at most ${(waitMs / ms).toFixed(2)} of the ideal)`
  );
  const fraction = (rate: number, ideal: number) =>
    Number.isFinite(rate) ? (rate / ideal).toFixed(2) : "–";
  const out = [
    `## Slow handler: ${waitMs} ms per message (\`${topic.topic}\`: ${PARTITIONS} partitions, ${
      topic.count.toLocaleString("en-US")
    } records of ${topic.recordBytes} B over ${topic.keys.toLocaleString("en-US")} keys)`,
    "",
    `Each row counts to the messages its reachable rate handles in ${slow.windowS} s (ideal = concurrency / ${waitMs} ms; partition ordering keeps one call per partition in flight). PC is Confluent's Parallel Consumer with the same ordering (PARTITION, KEY, UNORDERED) and maxConcurrency.`,
    ...(timers.length === 0 ? [] : [
      "",
      `A ${waitMs} ms \`setTimeout\` alone lasts (median of 100 in a row, this run): ${
        timers.join("; ")
      }; the handlers here wait on the wait service's answer instead, which both clients share.`,
    ]),
    "",
    `| ordering | concurrency | ideal msg/s | consumerd runtime | consumerd msg/s median (min–max) | Parallel Consumer msg/s median (min–max) | consumerd ÷ PC | consumerd ÷ ideal | PC ÷ ideal |`,
    "| --- | --: | --: | --- | --: | --: | --: | --: | --: |",
  ];
  for (const s of settings) {
    const pc = find("PC", s);
    const ideal = idealRate(s.concurrency, waitMs);
    const isSkipped = skipped.some((k) => k.ordering === s.ordering);
    for (const runtime of runtimes) {
      const r = find("R", s, runtime);
      out.push(
        `| ${s.ordering} | ${s.concurrency} | ${formatNumber(ideal)} | ${runtime} | ${
          slowCell(r, isSkipped)
        } | ${slowCell(pc, false)} | ${ratio(r, pc)} | ${fraction(medianRate(r), ideal)} | ${
          fraction(medianRate(pc), ideal)
        } |`,
      );
    }
  }
  out.push(
    "",
    "| client | runs | messages | msg/s median (min–max) | CPU µs/msg median (min–max) | peak RSS MiB median (min–max) |",
    "| --- | --: | --: | --: | --: | --: |",
  );
  for (const r of runs) {
    const { samples } = r;
    const cells = samples.length === 0 ? ["–", "–", "–", "–"] : [
      formatNumber(samples[0]!.messages),
      formatSpread(spread(samples.map(msgPerSec))),
      formatSpread(spread(samples.map(cpuUsPerMsg))),
      formatSpread(spread(samples.map((s) => s.peakKiB / 1024))),
    ];
    out.push(
      `| ${r.client.label}${r.failure === null ? "" : " ²"} | ${samples.length} | ${
        cells.join(" | ")
      } |`,
    );
  }
  out.push("", ...failureNotes(runs));
  if (skipped.length > 0) {
    out.push(
      `³ consumerd's ordering ${
        skipped.map((k) => k.ordering).join("/")
      } not supported by this build (check: ${
        [...new Set(skipped.map((k) => `\`${k.reason}\``))].join("; ")
      }): those rows are skipped, and run once check accepts the field.`,
      "",
    );
  }
  return out;
}

/** The two ratios of a consume→produce row; null where it has none. */
export interface ProduceRatios {
  /** Its exactly-once rate ÷ the same client's at-least-once rate (exactly-once rows). */
  eosOverAlo: number | null;
  /** consumerd's rate ÷ the raw platformatic loop's in the same delivery mode (R rows). */
  overRaw: number | null;
}

/**
 * The ratios of consume→produce row `r` among `runs` (one topic's), of median rates.
 *
 * @example
 * ```ts
 * const { eosOverAlo, overRaw } = produceRatios(runs, runs[1]!);
 * ```
 */
export function produceRatios(runs: readonly ClientRuns[], r: ClientRuns): ProduceRatios {
  const rate = (x: ClientRuns | undefined) => medianRate(x);
  const same = (a: ClientRuns["client"], b: ClientRuns["client"]) =>
    a.family === b.family && a.runtime === b.runtime && a.engine === b.engine;
  const sameTopic = runs.filter((x) => x.topic.topic === r.topic.topic);
  const alo = r.client.delivery === "exactly-once"
    ? sameTopic.find((x) => same(x.client, r.client) && x.client.delivery === "at-least-once")
    : undefined;
  const raw = r.client.family === "R"
    ? sameTopic.find((x) => x.client.family === "B2" && x.client.delivery === r.client.delivery)
    : undefined;
  const quotient = (a: number, b: number) => (Number.isFinite(a / b) ? a / b : null);
  return {
    eosOverAlo: alo === undefined ? null : quotient(rate(r), rate(alo)),
    overRaw: raw === undefined ? null : quotient(rate(r), rate(raw)),
  };
}

/** The consume→produce section: one table per input topic. */
function produceSection(runs: ClientRuns[]): string[] {
  const out = [
    "## Consume → produce: one output per input, of the same size",
    "",
    "Rates from the first input to every input committed with its output (see How it was measured). EOS÷ALO: the client's exactly-once rate ÷ its at-least-once rate; ÷B2: consumerd ÷ the raw @platformatic/kafka loop in the same delivery mode.",
    "",
  ];
  const topics = [...new Map(runs.map((r) => [r.topic.topic, r.topic])).values()];
  const ratioCell = (n: number | null) => (n === null ? "" : n.toFixed(2));
  for (const topic of topics) {
    const here = runs.filter((r) => r.topic.topic === topic.topic);
    out.push(
      `### ${topic.recordBytes} B × ${
        topic.count.toLocaleString("en-US")
      } inputs (\`${topic.topic}\`)`,
      "",
      "| client | engine | runtime | delivery | runs | msg/s median (min–max) | MiB/s median (min–max) | CPU µs/msg median (min–max) | peak RSS MiB median (min–max) | EOS÷ALO | ÷B2 |",
      "| --- | --- | --- | --- | --: | --: | --: | --: | --: | --: | --: |",
    );
    for (const r of here) {
      const { client, samples } = r;
      const cells = measuredCells(samples);
      const { eosOverAlo, overRaw } = produceRatios(here, r);
      out.push(
        `| ${client.family}${r.failure === null ? "" : " ²"} | ${
          engineOf(client)
        } | ${client.runtime} | ${client.delivery ?? "–"} | ${samples.length} | ${
          cells.join(" | ")
        } | ${ratioCell(eosOverAlo)} | ${ratioCell(overRaw)} |`,
      );
    }
    out.push("");
  }
  out.push(...failureNotes(runs));
  return out;
}

/**
 * Renders the report as Markdown.
 *
 * @example
 * ```ts
 * const markdown = renderReport({ title: "bench", context: [], runs: [], scale: [], notes: [] });
 * ```
 */
export function renderReport(input: ReportInput): string {
  const out = [`# ${input.title}`, "", ...input.context.map((c) => `- ${c}`), ""];
  const topics = [...new Map(input.runs.map((r) => [r.topic.topic, r.topic])).values()];
  for (const topic of topics) {
    out.push(
      `## ${topic.recordBytes} B × ${
        topic.count.toLocaleString("en-US")
      } records (\`${topic.topic}\`)`,
      "",
      ...topicTable(input.runs.filter((r) => r.topic.topic === topic.topic)),
      "",
    );
  }
  if (input.runs.some((r) => r.samples[0]?.cpuScope === "total")) {
    out.push(
      "¹ CPU time of the whole process life (JVM start-up, JIT and group join included): the tool marks no first message.",
      "",
    );
  }
  out.push(...failureNotes(input.runs));
  if (input.slow) out.push(...slowSection(input.slow));
  if (input.produce) out.push(...produceSection(input.produce));
  if (input.scale.length > 0) {
    out.push("## Start-up and memory per worker", "", ...scaleTable(input.scale), "");
  }
  if (input.notes.length > 0) {
    out.push("## How it was measured", "", ...input.notes.flatMap((n) => [n, ""]));
  }
  return out.join("\n");
}

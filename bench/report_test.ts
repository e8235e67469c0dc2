import assert from "node:assert/strict";
import { parsePerfOutput } from "./java_client.ts";
import type { Ordering } from "./client.ts";
import { type ClientRuns, formatNumber, renderReport, type SlowReport } from "./report.ts";
import type { Sample } from "./sample.ts";
import type { ScaleSample } from "./scale.ts";
import { topicName } from "./seed.ts";

const topic = { topic: "bench-100b-10", recordBytes: 100, count: 10, created: false };
const sample = (elapsedMs: number): Sample => ({
  messages: 10,
  bytes: 1000,
  elapsedMs,
  cpuMs: 5,
  cpuScope: "window",
  peakKiB: 2048,
});
const runs = (
  family: ClientRuns["client"]["family"],
  mode: ClientRuns["client"]["mode"],
  label: string,
  samples: Sample[],
  runtime: ClientRuns["client"]["runtime"] = "deno",
): ClientRuns => ({
  client: { label, family, runtime, mode },
  topic,
  samples,
  failure: null,
});

Deno.test("renderReport() divides R's median rate by B1's on the same runtime and mode", () => {
  const markdown = renderReport({
    title: "t",
    context: [],
    runs: [
      runs("B1", "batch", "B1 deno eachBatch", [sample(10), sample(20), sample(30)]),
      runs("R", "batch", "R deno handleBatch", [sample(40)]),
    ],
    scale: [],
    notes: [],
  });
  const row = markdown.split("\n").find((l) => l.startsWith("| R |"));
  assert.ok(row?.includes("| 0.50 |"), row);
});

Deno.test("renderReport() names each R row's engine and compares the platformatic engine with B2", () => {
  const markdown = renderReport({
    title: "t",
    context: [],
    runs: [
      runs("B2", "message", "B2 deno stream", [sample(10)]),
      {
        ...runs("R", "message", "R deno platformatic per-message", [sample(20)]),
        client: {
          label: "R deno platformatic per-message",
          family: "R",
          runtime: "deno",
          mode: "message",
          engine: "platformatic",
        },
      },
    ],
    scale: [],
    notes: [],
  });
  const row = markdown.split("\n").find((l) => l.startsWith("| R |"));
  assert.ok(row?.startsWith("| R | platformatic | deno | per-message |"), row);
  assert.ok(row?.includes("| 0.50 |"), row);
});

Deno.test("renderReport() divides every row's median rate by franz-go's (B3) in ÷B3", () => {
  const markdown = renderReport({
    title: "t",
    context: [],
    runs: [
      runs("B3", "poll", "B3 go PollFetches", [sample(10)], "go"),
      runs("B1", "batch", "B1 deno eachBatch", [sample(20)]),
      runs("R", "batch", "R deno handleBatch", [sample(40)]),
    ],
    scale: [],
    notes: [],
  });
  const lines = markdown.split("\n");
  const header = lines.find((l) => l.startsWith("| client |"))!;
  assert.ok(header.endsWith("| ÷B0 | ÷B3 |"), header);
  const b3 = lines.find((l) => l.startsWith("| B3 |"));
  assert.ok(b3?.startsWith("| B3 | franz-go | go | PollFetches | 1 |"), b3);
  assert.ok(b3?.endsWith("|  | – |  |"), b3);
  const r = lines.find((l) => l.startsWith("| R |"));
  assert.ok(r?.endsWith("| 0.50 | – | 0.25 |"), r);
});

const slowTopic = { ...topic, topic: "bench-slow-100b-10-k5", keys: 5 };
const slowRuns = (
  family: "R" | "PC",
  ordering: Ordering,
  concurrency: number,
  samples: Sample[],
  failure: string | null = null,
  runtime: "deno" | "bun" = "deno",
): ClientRuns => ({
  client: {
    label: `${family} slow ${ordering} c${concurrency}${runtime === "bun" ? " bun" : ""}`,
    family,
    runtime: family === "R" ? runtime : "java",
    mode: "message",
    slow: { ordering, concurrency },
  },
  topic: slowTopic,
  samples,
  failure,
});
const renderSlow = (
  runs: ClientRuns[],
  skipped: SlowReport["skipped"] = [],
  timerMs: SlowReport["timerMs"] = {},
): string =>
  renderReport({
    title: "t",
    context: [],
    runs: [],
    slow: { topic: slowTopic, waitMs: 20, windowS: 8, runs, skipped, timerMs },
    scale: [],
    notes: [],
  });
const rowOf = (markdown: string, start: string) =>
  markdown.split("\n").find((l) => l.startsWith(start));

Deno.test("renderReport() sets consumerd beside the Parallel Consumer per ordering and concurrency", () => {
  // 10 messages in 20 ms: 500 msg/s; in 10 ms: 1,000 msg/s.
  const markdown = renderSlow([
    slowRuns("PC", "key", 16, [sample(10)]),
    slowRuns("R", "key", 16, [sample(20)]),
    slowRuns("PC", "none", 64, [sample(20)]),
    slowRuns("R", "none", 64, [sample(10)]),
    slowRuns("R", "partition", 16, [sample(40)]),
  ]);
  assert.ok(markdown.includes("## Slow handler: 20 ms per message"), markdown);
  // ideal = concurrency / 20 ms: 800 msg/s at 16, 3,200 at 64.
  assert.equal(
    rowOf(markdown, "| partition | 16 |"),
    "| partition | 16 | 800 | deno | 250 | – | – | 0.31 | – |",
  );
  assert.equal(
    rowOf(markdown, "| key | 16 |"),
    "| key | 16 | 800 | deno | 500 | 1,000 | 0.50 | 0.63 | 1.25 |",
  );
  assert.equal(
    rowOf(markdown, "| none | 64 |"),
    "| none | 64 | 3,200 | deno | 1,000 | 500 | 2.00 | 0.31 | 0.16 |",
  );
  const partition = markdown.indexOf("| partition | 16 |");
  assert.ok(partition < markdown.indexOf("| key | 16 |"), "rows in ordering order");
  assert.ok(rowOf(markdown, "| R slow key c16 | 1 | 10 | 500 |"), markdown);
});

Deno.test("renderReport() gives consumerd a row per runtime beside the same Parallel Consumer row, with each runtime's timer floor", () => {
  const markdown = renderSlow(
    [
      slowRuns("PC", "key", 16, [sample(10)]),
      slowRuns("R", "key", 16, [sample(20)]),
      slowRuns("R", "key", 16, [sample(10)], null, "bun"),
    ],
    [],
    { deno: 21.28, bun: 20.17 },
  );
  const rows = markdown.split("\n").filter((l) => l.startsWith("| key | 16 |"));
  assert.deepEqual(rows, [
    "| key | 16 | 800 | deno | 500 | 1,000 | 0.50 | 0.63 | 1.25 |",
    "| key | 16 | 800 | bun | 1,000 | 1,000 | 1.00 | 1.25 | 1.25 |",
  ]);
  assert.ok(
    markdown.includes(
      "A 20 ms `setTimeout` alone lasts (median of 100 in a row, this run): deno 21.28 ms (at " +
        "most 0.94 of the ideal); bun 20.17 ms (at most 0.99 of the ideal); the handlers here " +
        "wait on the wait service's answer instead",
    ),
    markdown,
  );
});

Deno.test("renderReport() marks consumerd's rows of an ordering its build rejects as skipped, with check's words", () => {
  const unknown = 'consumers[0].ordering: unknown key "ordering"';
  const markdown = renderSlow([
    slowRuns("PC", "key", 64, [sample(10)]),
    slowRuns("PC", "none", 64, [], "The process exited"),
  ], [{ ordering: "key", reason: unknown }, { ordering: "none", reason: unknown }]);
  assert.equal(
    rowOf(markdown, "| key | 64 |"),
    "| key | 64 | 3,200 | deno | skipped ³ | 1,000 | – | – | 0.31 |",
  );
  assert.equal(
    rowOf(markdown, "| none | 64 |"),
    "| none | 64 | 3,200 | deno | skipped ³ | failed ² | – | – | – |",
  );
  assert.ok(
    markdown.includes(
      '³ consumerd\'s ordering key/none not supported by this build (check: `consumers[0].ordering: unknown key "ordering"`)',
    ),
    markdown,
  );
  assert.ok(
    markdown.includes("- PC slow none c64 (bench-slow-100b-10-k5): The process exited"),
    markdown,
  );
});

Deno.test("parsePerfOutput() reads ConsumerPerformance's header and values", () => {
  const stats = parsePerfOutput(
    "start.time, end.time, fetch.nMsg.sec\n2026-01-01 00:00:00:000, 2026-01-01 00:00:01:000, 1234.5\n",
  );
  assert.equal(stats["fetch.nMsg.sec"], 1234.5);
});

Deno.test("formatNumber() keeps three significant digits", () => {
  assert.equal(formatNumber(123_456), "123,000");
  assert.equal(formatNumber(2.345), "2.35");
  assert.equal(formatNumber(0.5), "0.5");
});

Deno.test("topicName() names a topic after its record size and count", () => {
  assert.equal(topicName({ recordBytes: 100, count: 1_000_000 }), "bench-100b-1000000");
  assert.equal(topicName({ recordBytes: 1024, count: 300_000 }), "bench-1kib-300000");
});

Deno.test("renderReport() divides each start-up's time to ready by kafkajs's in the same repetition", () => {
  const at = (
    engine: "kafkajs" | "platformatic",
    rep: number,
    consumers: number,
    readyMs: number,
  ): ScaleSample => ({
    runtime: "deno",
    engine,
    workers: "bundle",
    consumers,
    rep,
    readyMs,
    startCpuMs: readyMs,
    rssKiB: 1024 * (70 + consumers),
    idleCpuPct: 1,
  });
  const markdown = renderReport({
    title: "t",
    context: [],
    runs: [],
    scale: [
      at("kafkajs", 1, 0, 100),
      at("platformatic", 1, 0, 100),
      at("kafkajs", 1, 50, 2000),
      at("platformatic", 1, 50, 1800),
      // A slow repetition for both: paired, it says the same as the first.
      at("kafkajs", 2, 50, 4000),
      at("platformatic", 2, 50, 3600),
      // kafkajs's third start failed: its platformatic start has nothing to be compared with.
      at("platformatic", 3, 50, 9000),
    ],
    notes: [],
  });
  const cells = (engine: string, consumers: number) =>
    markdown.split("\n").find((l) => l.startsWith(`| deno | ${engine} | bundle | ${consumers} |`))
      ?.split("|").map((c) => c.trim());
  assert.equal(cells("platformatic", 50)?.[7], "0.9 (0.9–0.9)");
  assert.equal(cells("kafkajs", 50)?.[7], "–");
  assert.equal(cells("platformatic", 0)?.[7], "–");
  // The medians of the times themselves are not paired: 3,600 ms against 3,000.
  assert.equal(cells("platformatic", 50)?.[6], "3,600 (1,800–9,000)");
});

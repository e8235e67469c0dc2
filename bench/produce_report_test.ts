import assert from "node:assert/strict";
import type { Delivery, Engine, Family } from "./client.ts";
import { lastLoggedError, outputTopic, produceHandlerSource } from "./produce_section.ts";
import { type ClientRuns, produceRatios, renderReport } from "./report.ts";
import type { Sample } from "./sample.ts";

const small = { topic: "bench-100b-1000", recordBytes: 100, count: 1000, created: false };
const large = { topic: "bench-1kib-1000", recordBytes: 1024, count: 1000, created: false };

/** A run of 1000 messages at each of `rates` msg/s. */
function row(
  family: Family,
  delivery: Delivery,
  rates: number[],
  { engine, topic = small }: { engine?: Engine; topic?: typeof small } = {},
): ClientRuns {
  const samples: Sample[] = rates.map((rate) => ({
    messages: 1000,
    bytes: 1000 * topic.recordBytes,
    elapsedMs: 1000 * 1000 / rate,
    cpuMs: 10,
    cpuScope: "window",
    peakKiB: 1024,
  }));
  return {
    client: {
      label: `${family} ${engine ?? ""} produce ${delivery}`,
      family,
      runtime: family === "B0" ? "java" : "deno",
      mode: "batch",
      ...(engine === undefined ? {} : { engine }),
      delivery,
    },
    topic,
    samples,
    failure: null,
  };
}

Deno.test("produceRatios() divides exactly-once by the same client's at-least-once, and consumerd by the raw platformatic loop in the same delivery", () => {
  const rAlo = row("R", "at-least-once", [8000], { engine: "platformatic" });
  const rEos = row("R", "exactly-once", [3000, 4000, 9000], { engine: "platformatic" });
  const kAlo = row("R", "at-least-once", [5000], { engine: "kafkajs" });
  const bAlo = row("B2", "at-least-once", [10_000]);
  const bEos = row("B2", "exactly-once", [5000]);
  const java = row("B0", "exactly-once", [20_000]);
  const otherTopic = row("B2", "exactly-once", [1], { topic: large });
  const runs = [rAlo, rEos, kAlo, bAlo, bEos, java, otherTopic];
  assert.deepEqual(produceRatios(runs, rEos), { eosOverAlo: 0.5, overRaw: 0.8 });
  assert.deepEqual(produceRatios(runs, rAlo), { eosOverAlo: null, overRaw: 0.8 });
  assert.deepEqual(produceRatios(runs, kAlo), { eosOverAlo: null, overRaw: 0.5 });
  assert.deepEqual(produceRatios(runs, bEos), { eosOverAlo: 0.5, overRaw: null });
  assert.deepEqual(
    produceRatios(runs, java),
    { eosOverAlo: null, overRaw: null },
    "no Java ALO row",
  );
  // A twin without runs (it failed) gives no ratio.
  const failed = { ...bAlo, samples: [], failure: "boom" };
  assert.equal(produceRatios([rAlo, failed], rAlo).overRaw, null);
});

Deno.test("renderReport() writes the consume→produce section per input topic with both ratios", () => {
  const markdown = renderReport({
    title: "t",
    context: [],
    runs: [],
    produce: [
      row("R", "at-least-once", [8000], { engine: "platformatic" }),
      row("R", "exactly-once", [4000], { engine: "platformatic" }),
      row("B2", "at-least-once", [10_000]),
      row("B2", "exactly-once", [5000]),
      row("R", "at-least-once", [900], { engine: "platformatic", topic: large }),
    ],
    scale: [],
    notes: [],
  });
  const lines = markdown.split("\n");
  assert.ok(lines.includes("### 100 B × 1,000 inputs (`bench-100b-1000`)"));
  assert.ok(lines.includes("### 1024 B × 1,000 inputs (`bench-1kib-1000`)"));
  const rows = lines.filter((l) => l.startsWith("| R |") || l.startsWith("| B2 |"));
  assert.deepEqual(rows.map((l) => l.split(" | ").slice(1, 5)), [
    ["platformatic", "deno", "at-least-once", "1"],
    ["platformatic", "deno", "exactly-once", "1"],
    ["platformatic", "deno", "at-least-once", "1"],
    ["platformatic", "deno", "exactly-once", "1"],
    ["platformatic", "deno", "at-least-once", "1"],
  ]);
  const tail = (line: string) => line.split("|").slice(-3, -1).map((c) => c.trim());
  assert.match(rows[0]!, /\| 8,000 \| /);
  assert.deepEqual(tail(rows[0]!), ["", "0.80"]);
  assert.match(rows[1]!, /\| 4,000 \| /);
  assert.deepEqual(tail(rows[1]!), ["0.50", "0.80"]);
  assert.deepEqual(tail(rows[3]!), ["0.50", ""], "B2's own EOS÷ALO, no ÷B2");
  assert.deepEqual(tail(rows[4]!), ["", ""], "alone on its topic: no ratio");
});

Deno.test("produceHandlerSource() produces each message's value to its partition of the output topic", () => {
  const source = produceHandlerSource(outputTopic("bench-100b-10"));
  assert.match(source, /const OUTPUT = "bench-100b-10-produced";/);
  assert.match(
    source,
    /ctx\.produce\(\{ topic: OUTPUT, value: m\.value, partition: m\.partition \}\)/,
  );
  assert.match(source, /export async function handleBatch/);
});

Deno.test("lastLoggedError() says the daemon's last logged error, or null", () => {
  assert.equal(
    lastLoggedError([
      '{"level":"error","msg":"transaction failed; aborting it","error":"first"}',
      '{"level":"info","msg":"worker restarting"}',
      '{"level":"error","msg":"consumer crashed","error":"Producing messages failed."}',
      "not json",
    ]),
    "consumer crashed: Producing messages failed.",
  );
  assert.equal(lastLoggedError(['{"level":"error","msg":"no error field"}']), "no error field");
  assert.equal(lastLoggedError(['{"level":"warn","msg":"w","error":"e"}']), null);
});

/**
 * Produce and transaction metrics on the real broker: what `/metrics` says
 * was produced (messages and bytes per topic, dead-letter copies under
 * their topic, produce errors) is exactly what the broker holds, and an
 * exactly-once consumer counts its transactions and their durations. Both
 * expositions pass `promtool check metrics`.
 */
import assert from "node:assert/strict";
import { fixtureHandler } from "../harness/daemon.ts";
import { assertPromtoolAccepts, getMetrics, samples, startHttpDaemon } from "../harness/http.ts";
import { uniqueName, waitFor, withTopic } from "../harness/kafka.ts";
import { type ReadRecord, readTopic, readValues } from "../harness/read_topic.ts";

const INPUTS = 40;
const ATTEMPTS = 2;

/** Key, value and header bytes of records read back, as the byte counter counts them. */
function bytesOf(records: readonly ReadRecord[]): number {
  const size = (text: string | null) => new TextEncoder().encode(text ?? "").length;
  let bytes = 0;
  for (const r of records) {
    bytes += size(r.key) + size(r.value);
    for (const [name, values] of Object.entries(r.headers)) {
      for (const v of values) bytes += size(name) + size(v);
    }
  }
  return bytes;
}

/** The one sample of `family` with these labels, as a number (0 when absent). */
function valueOf(text: string, family: string, labels: Record<string, string>): number {
  const found = samples(text, family).filter((s) =>
    Object.entries(labels).every(([k, v]) => s.labels[k] === v)
  );
  assert.ok(found.length <= 1, `${family} ${JSON.stringify(labels)}: ${found.length} samples`);
  return found.length === 0 ? 0 : Number(found[0]!.value);
}

Deno.test("/metrics counts produced messages and bytes per topic, dead-letter copies under their topic, and produce errors, as the broker holds them", async () => {
  await withTopic({ partitions: 2 }, async ({ topic, admin }) => {
    const output = `${topic}.out`;
    const dlq = `${topic}.dlq`;
    await admin.ensureTopic(output, { partitions: 2 });
    await admin.ensureTopic(dlq, { partitions: 1 });
    const values = Array.from(
      { length: INPUTS },
      (_, i) => i === 7 ? "poison" : i === 20 ? "bad-partition" : `m-${i}`,
    );
    await admin.produce(
      topic,
      values.map((value, i) => ({ value, key: `k-${i}`, partition: i % 2 })),
    );
    const group = uniqueName("g");
    const { daemon, url } = await startHttpDaemon([{
      name: "enrich",
      group,
      topic,
      handler: fixtureHandler("produce_metrics.ts"),
      outputs: [output],
      settings: { output },
      deadLetterTopic: dlq,
      retry: { attempts: ATTEMPTS, backoffMs: 10, maxBackoffMs: 100 },
      commit: { mode: "auto", intervalMs: 100 },
    }]);
    try {
      const text = await waitFor(async () => {
        const t = await getMetrics(url);
        return valueOf(t, "consumerd_messages_processed_total", { consumer: "enrich" }) === INPUTS
          ? t
          : null;
      }, { what: `${INPUTS} inputs processed`, timeoutMs: 60_000 });
      const outputs = await readTopic(admin, output);
      const copies = await readTopic(admin, dlq);
      assert.equal(outputs.length, INPUTS - 2, "one output per good input");
      assert.equal(copies.length, 2, "the poison and the bad-partition inputs dead-lettered");

      const at = (family: string, t: string) => ({
        output: valueOf(t, family, { consumer: "enrich", topic: output }),
        dlq: valueOf(t, family, { consumer: "enrich", topic: dlq }),
      });
      assert.deepEqual(at("consumerd_produced_messages_total", text), {
        output: INPUTS - 2,
        dlq: 2,
      });
      assert.deepEqual(at("consumerd_produced_bytes_total", text), {
        output: bytesOf(outputs),
        dlq: bytesOf(copies),
      });
      assert.deepEqual(at("consumerd_produce_errors_total", text), { output: ATTEMPTS, dlq: 0 });
      // At-least-once: no transaction.
      assert.equal(samples(text, "consumerd_transactions_committed_total").length, 0);
      await assertPromtoolAccepts(text);
    } finally {
      await daemon.stop();
      await admin.deleteTopics([output, dlq]);
    }
  });
});

Deno.test("/metrics of an exactly-once consumer: outputs counted once committed, transactions committed, their duration histogram", async () => {
  await withTopic({ partitions: 2 }, async ({ topic, admin }) => {
    const output = `${topic}.out`;
    await admin.ensureTopic(output, { partitions: 2 });
    await admin.produce(
      topic,
      Array.from({ length: INPUTS }, (_, i) => ({ value: `m-${i}`, partition: i % 2 })),
    );
    const group = uniqueName("g");
    const { daemon, url } = await startHttpDaemon([{
      name: "eos",
      group,
      topic,
      engine: "platformatic",
      delivery: "exactly-once",
      handler: fixtureHandler("produce_eos.ts"),
      outputs: [output],
      settings: { output },
      commit: { mode: "auto", intervalMs: 100 },
    }]);
    try {
      const text = await waitFor(async () => {
        const t = await getMetrics(url);
        return valueOf(t, "consumerd_produced_messages_total", {
            consumer: "eos",
            topic: output,
          }) ===
            INPUTS
          ? t
          : null;
      }, { what: `${INPUTS} outputs committed`, timeoutMs: 60_000 });
      const committed = valueOf(text, "consumerd_transactions_committed_total", {
        consumer: "eos",
      });
      const aborted = valueOf(text, "consumerd_transactions_aborted_total", { consumer: "eos" });
      assert.ok(committed > 0, `transactions committed: ${committed}`);
      assert.equal(aborted, 0);
      const family = "consumerd_transaction_duration_seconds";
      const count = valueOf(text, `${family}_count`, { consumer: "eos" });
      assert.equal(count, committed + aborted, "every transaction timed");
      assert.ok(valueOf(text, `${family}_sum`, { consumer: "eos" }) > 0);
      const buckets = samples(text, `${family}_bucket`).filter((s) => s.labels.consumer === "eos");
      assert.equal(buckets.at(-1)?.labels.le, "+Inf");
      assert.equal(Number(buckets.at(-1)!.value), count);
      const cumulative = buckets.map((b) => Number(b.value));
      assert.deepEqual(cumulative, [...cumulative].sort((a, b) => a - b), "buckets cumulative");
      // The outputs have neither key nor headers: their bytes are their values'.
      const values = await readValues(output, "read_committed");
      assert.equal(values.length, INPUTS);
      assert.equal(
        valueOf(text, "consumerd_produced_bytes_total", { consumer: "eos", topic: output }),
        values.reduce((n, value) => n + new TextEncoder().encode(value).length, 0),
      );
      await assertPromtoolAccepts(text);
    } finally {
      await daemon.stop();
      await admin.deleteTopics([output]);
    }
  });
});

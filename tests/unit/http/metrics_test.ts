import assert from "node:assert/strict";
import { escapeLabelValue, renderExposition } from "../../../src/http/exposition.ts";
import { renderMetrics } from "../../../src/http/metrics.ts";
import { HANDLER_DURATION_BUCKETS, TRANSACTION_DURATION_BUCKETS } from "../../../src/protocol.ts";
import type { ConsumerReport } from "../../../src/supervisor/report.ts";
import { addStats, emptyStats } from "../../../src/supervisor/status.ts";

const config = { path: "/c.yaml", revision: 3, lastReload: null };

function report(partitions: ConsumerReport["partitions"]): ConsumerReport {
  const stats = emptyStats();
  stats.processed = 7;
  stats.duration.buckets[0] = 2;
  stats.duration.buckets[HANDLER_DURATION_BUCKETS.length] = 1;
  stats.duration.count = 3;
  stats.duration.sum = 40.0005;
  return {
    name: 'a"b',
    group: "g",
    topic: "t",
    mode: "balanced",
    groupProtocol: "classic",
    members: [],
    state: "running",
    reason: null,
    ready: true,
    replicas: 1,
    workersUp: 1,
    restarts: 2,
    lastError: null,
    resets: { "committed": 0, "reset-on-start": 1, "no-committed-offset": 0, "out-of-range": 0 },
    deadLettered: 0,
    handlerErrors: 0,
    partitions,
    paused: [],
    dispatch: null,
    stats,
    workers: [{ replica: 0, up: true }],
    transactional: false,
    fingerprint: null,
  };
}

Deno.test("escapeLabelValue() escapes backslash, quote and newline", () => {
  assert.equal(escapeLabelValue('a\\b"c\nd'), 'a\\\\b\\"c\\nd');
});

Deno.test("renderExposition() leaves out families without samples", () => {
  assert.equal(renderExposition([{ name: "x", help: "X.", type: "gauge", samples: [] }]), "");
});

Deno.test("renderMetrics() writes offsets exactly, a cumulative histogram, and no series for unknown lag", () => {
  const text = renderMetrics([report([
    {
      partition: 0,
      committed: "9007199254740993",
      processed: null,
      highWatermark: "9007199254740995",
      lag: "2",
    },
    { partition: 1, committed: null, processed: null, highWatermark: "4", lag: null },
  ])], config);
  assert.match(
    text,
    /^consumerd_committed_offset\{consumer="a\\"b",group="g",topic="t",partition="0"\} 9007199254740993$/m,
  );
  assert.equal(
    text.match(/^consumerd_lag\{/gm)?.length,
    1,
    "no lag series without a committed offset",
  );
  assert.match(
    text,
    /^consumerd_handler_duration_seconds_bucket\{consumer="a\\"b",le="0.0005"\} 2$/m,
  );
  assert.match(text, /^consumerd_handler_duration_seconds_bucket\{consumer="a\\"b",le="30"\} 2$/m);
  assert.match(
    text,
    /^consumerd_handler_duration_seconds_bucket\{consumer="a\\"b",le="\+Inf"\} 3$/m,
  );
  assert.match(
    text,
    /^consumerd_offset_resets_total\{consumer="a\\"b",reason="reset-on-start"\} 1$/m,
  );
  assert.match(text, /^consumerd_config_revision 3$/m);
  assert.match(text, /^consumerd_config_reload_success 1$/m, "the start-up config loaded");
  assert.doesNotMatch(text, /consumerd_config_reload_timestamp_seconds/, "no reload yet");
});

Deno.test("renderMetrics() drops a revoked partition's series", () => {
  const both = renderMetrics([report([
    { partition: 0, committed: "1", processed: null, highWatermark: "1", lag: "0" },
    { partition: 1, committed: "1", processed: null, highWatermark: "1", lag: "0" },
  ])], config);
  const one = renderMetrics([report([
    { partition: 0, committed: "1", processed: null, highWatermark: "1", lag: "0" },
  ])], config);
  assert.match(both, /partition="1"/);
  assert.doesNotMatch(one, /partition="1"/);
});

Deno.test("renderMetrics() writes calls in flight, buffered messages, paused keys and the oldest unfinished offset of ordering key and none", () => {
  const keyed = {
    ...report([
      {
        partition: 0,
        committed: "40",
        processed: "39",
        highWatermark: "90",
        lag: "50",
        oldestUnfinished: "40",
      },
      { partition: 1, committed: "7", processed: "6", highWatermark: "7", lag: "0" },
    ]),
    name: "keyed",
    dispatch: {
      inFlight: 64,
      buffered: 1200,
      pausedKeys: 2,
      paused: [{ partition: 0, key: "k", offset: "40", reason: "boom" }],
    },
  };
  keyed.stats = { ...keyed.stats, finishedBefore: 17, metadataDropped: 3 };
  const text = renderMetrics([keyed, report([])], config);
  assert.match(text, /^consumerd_calls_in_flight\{consumer="keyed"\} 64$/m);
  assert.match(text, /^consumerd_messages_buffered\{consumer="keyed"\} 1200$/m);
  assert.match(text, /^consumerd_paused_keys\{consumer="keyed"\} 2$/m);
  assert.match(text, /^consumerd_messages_finished_before_total\{consumer="keyed"\} 17$/m);
  assert.match(text, /^consumerd_commit_metadata_dropped_total\{consumer="keyed"\} 3$/m);
  assert.match(
    text,
    /^consumerd_oldest_unfinished_offset\{consumer="keyed",group="g",topic="t",partition="0"\} 40$/m,
  );
  assert.equal(text.match(/^consumerd_oldest_unfinished_offset\{/gm)?.length, 1, "none waits on 1");
  assert.equal(
    text.match(/^consumerd_calls_in_flight\{/gm)?.length,
    1,
    "no series for an ordering partition consumer",
  );
});

Deno.test("renderMetrics() writes produced messages, bytes and errors per topic, and transactions only for exactly-once consumers", () => {
  const eos = { ...report([]), name: "eos", transactional: true };
  eos.stats = {
    ...eos.stats,
    produced: {
      "out.b": { messages: 3, bytes: 30, errors: 0 },
      "out.a": { messages: 5, bytes: 512, errors: 2 },
    },
    transactions: {
      committed: 4,
      aborted: 1,
      duration: {
        buckets: [...TRANSACTION_DURATION_BUCKETS.map((_, i) => (i === 2 ? 4 : 0)), 1],
        sum: 12.5,
        count: 5,
      },
    },
  };
  const text = renderMetrics([eos, report([])], config);
  assert.deepEqual(
    text.match(/^consumerd_produced_messages_total\{.*$/gm),
    [
      'consumerd_produced_messages_total{consumer="eos",topic="out.a"} 5',
      'consumerd_produced_messages_total{consumer="eos",topic="out.b"} 3',
    ],
    "per topic, in topic order; none for a consumer that produced nothing",
  );
  assert.match(text, /^consumerd_produced_bytes_total\{consumer="eos",topic="out.a"\} 512$/m);
  assert.match(text, /^consumerd_produce_errors_total\{consumer="eos",topic="out.a"\} 2$/m);
  assert.match(text, /^consumerd_transactions_committed_total\{consumer="eos"\} 4$/m);
  assert.match(text, /^consumerd_transactions_aborted_total\{consumer="eos"\} 1$/m);
  assert.match(
    text,
    /^consumerd_transaction_duration_seconds_bucket\{consumer="eos",le="0.01"\} 0$/m,
  );
  assert.match(
    text,
    /^consumerd_transaction_duration_seconds_bucket\{consumer="eos",le="0.025"\} 4$/m,
  );
  assert.match(
    text,
    /^consumerd_transaction_duration_seconds_bucket\{consumer="eos",le="10"\} 4$/m,
  );
  assert.match(
    text,
    /^consumerd_transaction_duration_seconds_bucket\{consumer="eos",le="\+Inf"\} 5$/m,
  );
  assert.match(text, /^consumerd_transaction_duration_seconds_sum\{consumer="eos"\} 12.5$/m);
  assert.match(text, /^consumerd_transaction_duration_seconds_count\{consumer="eos"\} 5$/m);
  assert.equal(
    text.match(/^consumerd_transactions_committed_total\{/gm)?.length,
    1,
    "no transaction series for an at-least-once consumer",
  );
});

Deno.test("addStats() adds produced counts topic by topic and transactions with their histogram", () => {
  const a = emptyStats();
  a.produced = { x: { messages: 1, bytes: 10, errors: 0 } };
  a.transactions = { ...a.transactions, committed: 2 };
  a.transactions.duration.buckets[0] = 2;
  a.transactions.duration.count = 2;
  const b = emptyStats();
  b.produced = { x: { messages: 2, bytes: 5, errors: 1 }, y: { messages: 1, bytes: 1, errors: 0 } };
  b.transactions = { ...b.transactions, aborted: 1 };
  b.transactions.duration.buckets[TRANSACTION_DURATION_BUCKETS.length] = 1;
  b.transactions.duration.count = 1;
  const sum = addStats(a, b);
  assert.deepEqual(sum.produced, {
    x: { messages: 3, bytes: 15, errors: 1 },
    y: { messages: 1, bytes: 1, errors: 0 },
  });
  assert.equal(sum.transactions.committed, 2);
  assert.equal(sum.transactions.aborted, 1);
  assert.equal(sum.transactions.duration.count, 3);
  assert.equal(sum.transactions.duration.buckets[0], 2);
  assert.equal(sum.transactions.duration.buckets[TRANSACTION_DURATION_BUCKETS.length], 1);
  assert.deepEqual(a.produced.x, { messages: 1, bytes: 10, errors: 0 }, "a left as it was");
});

import assert from "node:assert/strict";
import { escapeLabelValue, renderExposition } from "../../../src/http/exposition.ts";
import { renderMetrics } from "../../../src/http/metrics.ts";
import { HANDLER_DURATION_BUCKETS } from "../../../src/protocol.ts";
import type { ConsumerReport } from "../../../src/supervisor/report.ts";
import { emptyStats } from "../../../src/supervisor/status.ts";

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

/**
 * The daemon's metrics, built from the supervisor's consumer reports. Pure:
 * every scrape renders what the workers last reported, so a revoked
 * partition's series are gone at the next scrape.
 *
 * @module
 */
import {
  HANDLER_DURATION_BUCKETS,
  type HistogramCounts,
  type StartReason,
  type TopicProduced,
  TRANSACTION_DURATION_BUCKETS,
} from "../protocol.ts";
import type { ConsumerReport } from "../supervisor/report.ts";
import type { ConfigInfo } from "./config_info.ts";
import { type MetricFamily, renderExposition, type Sample } from "./exposition.ts";

const RESET_REASONS: readonly StartReason[] = [
  "reset-on-start",
  "no-committed-offset",
  "out-of-range",
];

function perConsumer(
  reports: readonly ConsumerReport[],
  value: (r: ConsumerReport) => number,
): Sample[] {
  return reports.map((r) => ({ labels: { consumer: r.name }, value: value(r) }));
}

function perPartition(
  reports: readonly ConsumerReport[],
  value: (p: ConsumerReport["partitions"][number]) => string | null,
): Sample[] {
  return reports.flatMap((r) =>
    r.partitions.flatMap((p) => {
      const v = value(p);
      if (v === null) return [];
      return [{
        labels: {
          consumer: r.name,
          group: r.group,
          topic: r.topic,
          partition: String(p.partition),
        },
        value: v,
      }];
    })
  );
}

function perDispatch(
  reports: readonly ConsumerReport[],
  value: (d: NonNullable<ConsumerReport["dispatch"]>) => number,
): Sample[] {
  return reports.flatMap((r) =>
    r.dispatch === null ? [] : [{ labels: { consumer: r.name }, value: value(r.dispatch) }]
  );
}

/** Per consumer and topic produced to, in topic order. */
function perTopic(
  reports: readonly ConsumerReport[],
  value: (counts: TopicProduced) => number,
): Sample[] {
  return reports.flatMap((r) =>
    Object.entries(r.stats.produced)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([topic, counts]) => ({ labels: { consumer: r.name, topic }, value: value(counts) }))
  );
}

/** A histogram's samples per consumer: cumulative buckets of `bounds`, +Inf, sum and count. */
function histogramSamples(
  reports: readonly ConsumerReport[],
  bounds: readonly number[],
  histogram: (r: ConsumerReport) => HistogramCounts,
): Sample[] {
  return reports.flatMap((r) => {
    const { buckets, sum, count } = histogram(r);
    let cumulative = 0;
    const bucketSamples: Sample[] = bounds.map((le, i) => {
      cumulative += buckets[i] ?? 0;
      return { suffix: "_bucket", labels: { consumer: r.name, le: String(le) }, value: cumulative };
    });
    return [
      ...bucketSamples,
      { suffix: "_bucket", labels: { consumer: r.name, le: "+Inf" }, value: count },
      { suffix: "_sum", labels: { consumer: r.name }, value: sum },
      { suffix: "_count", labels: { consumer: r.name }, value: count },
    ];
  });
}

/**
 * The metric families for the given consumers and config.
 *
 * @example
 * ```ts
 * const text = renderExposition(metricFamilies(supervisor.report(), configInfo()));
 * ```
 */
export function metricFamilies(
  reports: readonly ConsumerReport[],
  config: ConfigInfo,
): MetricFamily[] {
  const reload = config.lastReload;
  const transactional = reports.filter((r) => r.transactional);
  return [
    {
      name: "consumerd_consumer_ready",
      help: "1 when every replica of the consumer holds its assignment and reads it, else 0.",
      type: "gauge",
      samples: perConsumer(reports, (r) => (r.ready ? 1 : 0)),
    },
    {
      name: "consumerd_consumer_stalled",
      help: "1 when every partition the consumer holds is paused after a handler failure " +
        "(a poison message without a dead-letter topic, a missing permission), else 0.",
      type: "gauge",
      samples: perConsumer(reports, (r) => (r.state === "stalled" ? 1 : 0)),
    },
    {
      name: "consumerd_paused_partitions",
      help: "Partitions the consumer holds that are paused after a handler failure; each is " +
        "tried again every retry.maxBackoffMs until its message is handled or dead-lettered.",
      type: "gauge",
      samples: perConsumer(reports, (r) => r.paused.length),
    },
    {
      name: "consumerd_messages_processed_total",
      help: "Messages whose handler finished, or that were dead-lettered.",
      type: "counter",
      samples: perConsumer(reports, (r) => r.stats.processed),
    },
    {
      name: "consumerd_handler_errors_total",
      help: "Handler calls that threw (every attempt counts).",
      type: "counter",
      samples: perConsumer(reports, (r) => r.stats.handlerErrors),
    },
    {
      name: "consumerd_handler_retries_total",
      help: "Handler calls that were retries of a failed call.",
      type: "counter",
      samples: perConsumer(reports, (r) => r.stats.retries),
    },
    {
      name: "consumerd_messages_failed_total",
      help: "Messages whose handler failed every attempt (then dead-lettered or paused).",
      type: "counter",
      samples: perConsumer(reports, (r) => r.handlerErrors),
    },
    {
      name: "consumerd_messages_dead_lettered_total",
      help: "Messages copied to the dead-letter topic after their retries were spent.",
      type: "counter",
      samples: perConsumer(reports, (r) => r.deadLettered),
    },
    {
      name: "consumerd_handler_duration_seconds",
      help: "How long one handler call took (a message, or a batch with handleBatch).",
      type: "histogram",
      samples: histogramSamples(reports, HANDLER_DURATION_BUCKETS, (r) => r.stats.duration),
    },
    {
      name: "consumerd_produced_messages_total",
      help: "Records written per topic: outputs of ctx.produce() and dead-letter copies " +
        "(exactly-once: once their transaction committed).",
      type: "counter",
      samples: perTopic(reports, (t) => t.messages),
    },
    {
      name: "consumerd_produced_bytes_total",
      help: "Key, value and header bytes of the records written per topic.",
      type: "counter",
      samples: perTopic(reports, (t) => t.bytes),
    },
    {
      name: "consumerd_produce_errors_total",
      help: "Records that failed to be written per topic (exactly-once: those of a transaction " +
        "that failed).",
      type: "counter",
      samples: perTopic(reports, (t) => t.errors),
    },
    {
      name: "consumerd_transactions_committed_total",
      help: "Transactions committed (delivery: exactly-once).",
      type: "counter",
      samples: perConsumer(transactional, (r) => r.stats.transactions.committed),
    },
    {
      name: "consumerd_transactions_aborted_total",
      help: "Transactions that failed and were aborted (delivery: exactly-once).",
      type: "counter",
      samples: perConsumer(transactional, (r) => r.stats.transactions.aborted),
    },
    {
      name: "consumerd_transaction_duration_seconds",
      help: "How long one transaction took, from its first record to its end (delivery: " +
        "exactly-once).",
      type: "histogram",
      samples: histogramSamples(
        transactional,
        TRANSACTION_DURATION_BUCKETS,
        (r) => r.stats.transactions.duration,
      ),
    },
    {
      name: "consumerd_calls_in_flight",
      help: "Handler calls in flight (ordering key and none).",
      type: "gauge",
      samples: perDispatch(reports, (d) => d.inFlight),
    },
    {
      name: "consumerd_messages_buffered",
      help: "Messages fetched and not finished, waiting or running (ordering key and none).",
      type: "gauge",
      samples: perDispatch(reports, (d) => d.buffered),
    },
    {
      name: "consumerd_paused_keys",
      help: "Keys paused after their message failed every attempt, without a dead-letter topic " +
        "(ordering key and none).",
      type: "gauge",
      samples: perDispatch(reports, (d) => d.pausedKeys),
    },
    {
      name: "consumerd_messages_finished_before_total",
      help: "Messages not handled again at a start because the commit it resumed from lists them " +
        "as finished (ordering key and none).",
      type: "counter",
      samples: perConsumer(reports, (r) => r.stats.finishedBefore),
    },
    {
      name: "consumerd_commit_metadata_dropped_total",
      help: "Finished offsets a commit's metadata could not list (too many to fit); they are " +
        "handled again after a restart from that commit.",
      type: "counter",
      samples: perConsumer(reports, (r) => r.stats.metadataDropped),
    },
    {
      name: "consumerd_oldest_unfinished_offset",
      help: "The oldest message fetched and not finished, per partition; the committed offset " +
        "cannot pass it (ordering key and none).",
      type: "gauge",
      samples: perPartition(reports, (p) => p.oldestUnfinished ?? null),
    },
    {
      name: "consumerd_committed_offset",
      help: "The group's committed offset (the next to read) of each partition this daemon holds.",
      type: "gauge",
      samples: perPartition(reports, (p) => p.committed),
    },
    {
      name: "consumerd_high_watermark",
      help:
        "The partition's high watermark at the last fetch, or as the broker last said when not fetched lately.",
      type: "gauge",
      samples: perPartition(reports, (p) => p.highWatermark),
    },
    {
      name: "consumerd_lag",
      help: "Messages not yet committed: high watermark minus committed offset, per partition.",
      type: "gauge",
      samples: perPartition(reports, (p) => p.lag),
    },
    {
      name: "consumerd_worker_up",
      help: "1 when the replica's worker is alive, else 0.",
      type: "gauge",
      samples: reports.flatMap((r) =>
        r.workers.map((w) => ({
          labels: { consumer: r.name, replica: String(w.replica) },
          value: w.up ? 1 : 0,
        }))
      ),
    },
    {
      name: "consumerd_worker_restarts_total",
      help: "Workers restarted by the supervisor after a crash or a hang.",
      type: "counter",
      samples: perConsumer(reports, (r) => r.restarts),
    },
    {
      name: "consumerd_offset_resets_total",
      help: "Partitions started away from their committed offset, by reason.",
      type: "counter",
      samples: reports.flatMap((r) =>
        RESET_REASONS.map((reason) => ({
          labels: { consumer: r.name, reason },
          value: r.resets[reason],
        }))
      ),
    },
    {
      name: "consumerd_rebalances_total",
      help: "Partition assignments the consumer's workers received.",
      type: "counter",
      samples: perConsumer(reports, (r) => r.stats.rebalances),
    },
    {
      name: "consumerd_config_revision",
      help: "Revision of the config in use: 1 at start, +1 per applied reload.",
      type: "gauge",
      samples: [{ labels: {}, value: config.revision }],
    },
    {
      name: "consumerd_config_reload_success",
      help: "1 when the last config reload succeeded (or none happened yet), else 0.",
      type: "gauge",
      // Before any reload: the config the daemon started with loaded fine.
      samples: [{ labels: {}, value: reload === null || reload.ok ? 1 : 0 }],
    },
    {
      name: "consumerd_config_reload_timestamp_seconds",
      help: "When the config was last reloaded (Unix time); absent before the first reload.",
      type: "gauge",
      samples: reload === null ? [] : [{ labels: {}, value: Date.parse(reload.at) / 1000 }],
    },
  ];
}

/** The metrics as Prometheus text. */
export function renderMetrics(reports: readonly ConsumerReport[], config: ConfigInfo): string {
  return renderExposition(metricFamilies(reports, config));
}

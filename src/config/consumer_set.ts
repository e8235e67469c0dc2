/**
 * Rules that span consumers: unique names, and agreement between consumers
 * that share a group and topic (they share committed offsets).
 *
 * @module
 */
import type { FieldPath } from "./locate.ts";
import type { ConsumerConfig } from "./types.ts";

/** A consumer and its index in `consumers:`. */
export interface IndexedConsumer {
  index: number;
  consumer: ConsumerConfig;
}

/** A rule violation, at a field of one consumer. */
export interface ConsumerSetIssue {
  index: number;
  /** Path inside the consumer, e.g. `["autoOffsetReset"]`. */
  path: FieldPath;
  message: string;
}

/** Fields that consumers sharing a group and topic must agree on. */
const SHARED_FIELDS = ["mode", "autoOffsetReset", "resetOffsetOnStart"] as const;

function label({ index, consumer }: IndexedConsumer): string {
  return `consumers[${index}] ("${consumer.name}")`;
}

function overlap(a: ConsumerConfig, b: ConsumerConfig): string | undefined {
  if (a.partitions === null || b.partitions === null) return "all partitions";
  const other = new Set(b.partitions);
  const shared = a.partitions.filter((partition) => other.has(partition));
  return shared.length === 0
    ? undefined
    : `partition${shared.length > 1 ? "s" : ""} ${shared.join(", ")}`;
}

/**
 * Checks the rules that span consumers; each issue is reported on the later
 * of the two consumers involved.
 *
 * - names are unique;
 * - consumers with the same group and topic agree on mode, autoOffsetReset
 *   and resetOffsetOnStart (they read and commit the same offsets);
 * - simple-mode consumers with the same group and topic do not read the same
 *   partitions (each would overwrite the other's commits).
 *
 * @example
 * ```ts
 * checkConsumerSet([{ index: 0, consumer: a }, { index: 1, consumer: a }]);
 * // [{ index: 1, path: ["name"], message: 'duplicate consumer name "audit": ...' }]
 * ```
 */
export function checkConsumerSet(consumers: readonly IndexedConsumer[]): ConsumerSetIssue[] {
  const issues: ConsumerSetIssue[] = [];
  const byName = new Map<string, IndexedConsumer>();
  const byGroupTopic = new Map<string, IndexedConsumer[]>();
  for (const entry of consumers) {
    const { index, consumer } = entry;
    const first = byName.get(consumer.name);
    if (first !== undefined) {
      issues.push({
        index,
        path: ["name"],
        message:
          `duplicate consumer name "${consumer.name}": already used by consumers[${first.index}]` +
          " (names must be unique)",
      });
    } else {
      byName.set(consumer.name, entry);
    }

    const key = JSON.stringify([consumer.group, consumer.topic]);
    const peers = byGroupTopic.get(key) ?? [];
    const shares = `share group "${consumer.group}" and topic "${consumer.topic}"`;
    const peer = peers[0];
    const disagreement = peer === undefined
      ? undefined
      : SHARED_FIELDS.find((field) => peer.consumer[field] !== consumer[field]);
    if (peer !== undefined && disagreement !== undefined) {
      issues.push({
        index,
        path: [disagreement],
        message: `expected ${disagreement}: ${JSON.stringify(peer.consumer[disagreement])} as in ` +
          `${label(peer)}, found ${
            JSON.stringify(consumer[disagreement])
          }: consumers that ${shares} ` +
          "share committed offsets and must agree on mode, autoOffsetReset and resetOffsetOnStart",
      });
    } else if (consumer.mode === "simple") {
      for (const other of peers) {
        const shared = overlap(other.consumer, consumer);
        if (shared === undefined) continue;
        issues.push({
          index,
          path: ["partitions"],
          message: `${shared} also read by ${label(other)}: simple-mode consumers that ${shares} ` +
            "must read disjoint partitions (each would overwrite the other's commits)",
        });
        break;
      }
    }
    peers.push(entry);
    byGroupTopic.set(key, peers);
  }
  return issues;
}

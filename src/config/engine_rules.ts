/**
 * Rules between a consumer's engine and the group features it asks for: the
 * consumer group protocol (KIP-848) and static membership (KIP-345) need the
 * platformatic engine; kafkajs speaks only the classic protocol and cannot
 * join with a group.instance.id. `delivery: exactly-once` needs it too: its
 * transactions carry the group's generation with the input offsets (KIP-447),
 * which kafkajs's cannot. Pure.
 *
 * @module
 */
import type { IndexedConsumer } from "./consumer_set.ts";
import type { FieldPath } from "./locate.ts";
import { engineOf } from "./membership.ts";
import type { KafkaConfig } from "./types.ts";

/** A rule violation: at a field of one consumer (`index`), or of `kafka:` (`index` null). */
export interface EngineIssue {
  index: number | null;
  path: FieldPath;
  message: string;
}

const label = ({ index, consumer }: IndexedConsumer) => `consumers[${index}] ("${consumer.name}")`;

function listed(consumers: IndexedConsumer[]): string {
  const verb = consumers.length === 1 ? "reads" : "read";
  return `${consumers.map(label).join(", ")} ${verb} with kafkajs`;
}

function kafkaLevel(consumers: IndexedConsumer[]): string {
  return `(set kafka.engine: platformatic, or engine: platformatic on ${
    consumers.length === 1 ? "it" : "each"
  })`;
}

/**
 * Checks that every balanced consumer on kafkajs asks for neither the
 * consumer group protocol nor static membership. A consumer's own
 * `groupProtocol` (or one from `defaults:`) is reported on it; what
 * `kafka:` sets is reported once there, naming every consumer it reaches.
 * Simple-mode consumers join no group, so neither applies to them.
 *
 * @example
 * ```ts
 * checkEngineFeatures(kafka, [{ index: 0, consumer }]);
 * // [{ index: null, path: ["kafka", "instanceId"], message: "static membership … needs …" }]
 * ```
 */
export function checkEngineFeatures(
  kafka: KafkaConfig,
  consumers: readonly IndexedConsumer[],
): EngineIssue[] {
  const issues: EngineIssue[] = [];
  const onKafkajs = consumers.filter(({ consumer }) =>
    consumer.mode === "balanced" && engineOf(consumer, kafka) === "kafkajs"
  );
  const protocol = "groupProtocol: consumer needs engine: platformatic; ";
  const classicOnly = ", which speaks only the classic protocol";
  for (const entry of onKafkajs) {
    if (entry.consumer.groupProtocol !== "consumer") continue;
    issues.push({
      index: entry.index,
      path: ["groupProtocol"],
      message: `${protocol}${listed([entry])}${classicOnly}`,
    });
  }
  const inherited = onKafkajs.filter(({ consumer }) =>
    consumer.groupProtocol === null && kafka.groupProtocol === "consumer"
  );
  if (inherited.length > 0) {
    issues.push({
      index: null,
      path: ["kafka", "groupProtocol"],
      message: `${protocol}${listed(inherited)}${classicOnly} ${kafkaLevel(inherited)}`,
    });
  }
  issues.push(...checkDelivery(kafka, consumers));
  if (kafka.instanceId !== "" && onKafkajs.length > 0) {
    issues.push({
      index: null,
      path: ["kafka", "instanceId"],
      message: `static membership (instanceId) needs engine: platformatic; ${
        listed(onKafkajs)
      }, which cannot join with a group.instance.id ${kafkaLevel(onKafkajs)}`,
    });
  }
  return issues;
}

/**
 * `delivery: exactly-once`: refused on kafkajs, whose transactions commit
 * input offsets without the group's generation (a fenced member could still
 * commit). The consumer group protocol is taken: a transaction's offsets
 * follow the member's epoch as it moves. Simple mode is taken: its transactions commit offsets as Kafka's clients
 * do without group metadata (generation -1, no member id), which the
 * coordinator accepts while the group has no members; the slot's stable
 * transactional id fences a zombie.
 * Every `ordering` is taken: a transaction's offsets carry the commit
 * metadata (`ordering: key` and `none` list the finished offsets beyond the
 * commit point there).
 */
function checkDelivery(kafka: KafkaConfig, consumers: readonly IndexedConsumer[]): EngineIssue[] {
  const issues: EngineIssue[] = [];
  for (const entry of consumers) {
    const { consumer } = entry;
    if (consumer.delivery !== "exactly-once") continue;
    const needs = "delivery: exactly-once needs";
    let message: string | null = null;
    if (engineOf(consumer, kafka) === "kafkajs") {
      message = `${needs} engine: platformatic; ${listed([entry])}, whose ` +
        "transactions cannot carry the group's generation (KIP-447) " +
        `(set kafka.engine: platformatic, or engine: platformatic on it)`;
    }
    if (message !== null) issues.push({ index: entry.index, path: ["delivery"], message });
  }
  return issues;
}

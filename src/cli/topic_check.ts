/**
 * `check`'s look at the cluster: which topics a config names that do not
 * exist (the consumed topic, the dead-letter topic, the output topics), as
 * warnings at the line that names them. A config is valid
 * without them (a consumer waits for its topic), so they never fail `check`.
 *
 * @module
 */
import type { Config, KafkaConfig, TopicPlace } from "../config/types.ts";
import { KafkaAdmin } from "../kafka/kafkajs/admin.ts";
import { describeKafkaError } from "../kafka/operator_error.ts";

/** How long `check` waits for the brokers to list their topics. */
export const TOPIC_CHECK_TIMEOUT_MS = 5000;

const CONSEQUENCE: Record<TopicPlace["field"], (topic: string) => string> = {
  topic: (topic) =>
    `topic "${topic}" does not exist: the consumer waits for it (consumerd creates no topics)`,
  deadLetterTopic: (topic) =>
    `dead-letter topic "${topic}" does not exist: a message whose attempts are spent cannot ` +
    "be dead-lettered, and its partition pauses",
  outputs: (topic) =>
    `output topic "${topic}" does not exist: ctx.produce() to it fails, and so does the call ` +
    "that made it",
};

/**
 * A warning for each place in `config` that names a topic not in
 * `existing`, as `file:line:col path: warning: …`, in file order. A place in
 * `defaults:` is warned about once, naming the consumers it applies to.
 *
 * @example
 * ```ts
 * missingTopicWarnings(config, new Set(["orders"]), "consumers.yaml");
 * // ['consumers.yaml:8:12 consumers[1].topic: warning: topic "payments" does not exist: …']
 * ```
 */
export function missingTopicWarnings(
  config: Config,
  existing: ReadonlySet<string>,
  file: string,
): string[] {
  const found = new Map<string, { place: TopicPlace; topic: string; consumers: string[] }>();
  for (const consumer of config.consumers) {
    const lines = config.lines?.[consumer.name];
    for (const place of lines?.topics ?? []) {
      const topic = place.item === undefined
        ? consumer[place.field as "topic" | "deadLetterTopic"]
        : consumer.outputs[place.item];
      if (topic === null || topic === undefined || existing.has(topic)) continue;
      const entry = found.get(place.path) ?? { place, topic, consumers: [] };
      entry.consumers.push(`consumers[${lines!.place.index}] "${consumer.name}"`);
      found.set(place.path, entry);
    }
  }
  return [...found.values()]
    .sort((a, b) => a.place.line - b.place.line || a.place.column - b.place.column)
    .map(({ place, topic, consumers }) => {
      const shared = place.path.startsWith("defaults") ? ` (for ${consumers.join(", ")})` : "";
      return `${file}:${place.line}:${place.column} ${place.path}: warning: ` +
        `${CONSEQUENCE[place.field](topic)}${shared}`;
    });
}

/**
 * The cluster's topics, or why the brokers could not be asked within
 * `timeoutMs` (unreachable, a refused password or certificate, too slow),
 * in the config's terms.
 *
 * @example
 * ```ts
 * await listTopicsWithin(config.kafka); // Set { "orders", … } or "cannot reach brokers …"
 * ```
 */
export async function listTopicsWithin(
  kafka: KafkaConfig,
  timeoutMs = TOPIC_CHECK_TIMEOUT_MS,
): Promise<Set<string> | string> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<string>((resolve) =>
    timer = setTimeout(() => resolve(`no answer within ${timeoutMs / 1000} s`), timeoutMs)
  );
  let admin: KafkaAdmin | null = null;
  const listed = (async () => {
    admin = await KafkaAdmin.connect(kafka, "check");
    return new Set(await admin.listTopics());
  })().catch((error) =>
    describeKafkaError(error, {
      topic: "",
      brokers: kafka.brokers,
      // Who signs in, with which mechanism; never the password.
      sasl: kafka.sasl && { mechanism: kafka.sasl.mechanism, username: kafka.sasl.username },
    }).message
  );
  try {
    return await Promise.race([listed, late]);
  } finally {
    clearTimeout(timer);
    // A connection still being made is closed once it is (or fails).
    void listed.finally(() => (admin as KafkaAdmin | null)?.close().catch(() => {}));
  }
}

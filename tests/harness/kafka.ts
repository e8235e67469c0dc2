/**
 * Integration-test helpers against the real local broker: unique names,
 * topics, produced records, committed offsets. Nothing here mocks Kafka.
 *
 * @module
 */
import type { Engine, KafkaConfig } from "../../src/config/types.ts";
import type { SessionOptions } from "../../src/kafka/session.ts";
import { KafkaAdmin } from "../../src/kafka/kafkajs/admin.ts";
import { createKafka } from "../../src/kafka/kafkajs/client.ts";
import { kafkaTool } from "../../scripts/broker.ts";

/** The broker list the tests use (`KAFKA_BROKERS`, default 127.0.0.1:9092). */
export const BROKERS = (Deno.env.get("KAFKA_BROKERS") ?? "127.0.0.1:9092").split(",");

/** Cluster settings for the test broker. */
export const TEST_KAFKA: KafkaConfig = {
  brokers: BROKERS,
  clientId: "consumerd-test",
  ssl: false,
  sasl: null,
  engine: "kafkajs",
  groupProtocol: "classic",
  groupRemoteAssignor: null,
  instanceId: "",
  sessionTimeoutMs: 30000,
};

/** Both Kafka client engines, for tests that run on each. */
export const ENGINES: readonly Engine[] = ["kafkajs", "platformatic"];

/** {@linkcode TEST_KAFKA} with `engine` selected. */
export function kafkaWith(engine: Engine): KafkaConfig {
  return { ...TEST_KAFKA, engine };
}

/**
 * Session options the session tests share: every partition of the topic, from the earliest
 * offset when out of range, auto commit, kafkajs's fetch sizes, one partition at a time.
 */
export const TEST_SESSION = {
  groupProtocol: "classic",
  instanceId: null,
  partitions: null,
  autoOffsetReset: "earliest",
  autoCommit: true,
  commitIntervalMs: 1000,
  fetch: { maxBytesPerPartition: 1024 * 1024, maxBytes: 10 * 1024 * 1024, maxWaitMs: 500 },
  concurrency: 1,
  maxHandlerMs: 60_000,
} as const satisfies Partial<SessionOptions>;

/** A connected transactional producer (kafkajs's), for tests that need aborted or committed transactions. */
export async function transactionalProducer(transactionalId = uniqueName("tx")): Promise<
  ReturnType<ReturnType<typeof createKafka>["producer"]>
> {
  const producer = createKafka(TEST_KAFKA, { clientIdSuffix: "tx" }).producer({
    transactionalId,
    idempotent: true,
    maxInFlightRequests: 1,
  });
  await producer.connect();
  return producer;
}

let counter = 0;
/** A name no other test (or earlier run) uses. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${(counter++).toString(36)}-${
    crypto.randomUUID().slice(0, 6)
  }`;
}

/** A topic created for one test, with the admin connection that made it. */
export interface TestTopic {
  topic: string;
  admin: KafkaAdmin;
}

/**
 * Creates a fresh topic, runs `fn`, then deletes the topic.
 *
 * @example
 * ```ts
 * await withTopic({ partitions: 3 }, async ({ topic, admin }) => { … });
 * ```
 */
export async function withTopic<T>(
  { partitions = 3, prefix = "t" }: { partitions?: number; prefix?: string },
  fn: (t: TestTopic) => Promise<T>,
): Promise<T> {
  const admin = await KafkaAdmin.connect(TEST_KAFKA, "test-admin");
  const topic = uniqueName(prefix);
  try {
    await admin.ensureTopic(topic, { partitions });
    return await fn({ topic, admin });
  } finally {
    await admin.deleteTopics([topic]).catch(() => {});
    await admin.close();
  }
}

/** Produces `count` records `"<prefix>-<i>"`, spread over `partitions` round-robin. */
export async function produceNumbered(
  admin: KafkaAdmin,
  topic: string,
  { count, partitions, prefix = "m" }: { count: number; partitions: number; prefix?: string },
): Promise<void> {
  await admin.produce(
    topic,
    Array.from(
      { length: count },
      (_, i) => ({ value: `${prefix}-${i}`, partition: i % partitions }),
    ),
  );
}

/**
 * Runs Kafka's own `kafka-consumer-groups --describe --group <group> <view>`
 * and returns its table as rows keyed by column header.
 */
export async function describeGroup(
  group: string,
  view: "--offsets" | "--state" | "--members",
): Promise<Array<Record<string, string>>> {
  const out = await kafkaTool("consumer-groups", [
    "--bootstrap-server",
    BROKERS[0]!,
    "--describe",
    "--group",
    group,
    view,
  ]);
  if (out.code !== 0) throw new Error(`kafka-consumer-groups failed: ${out.stderr}`);
  const lines = out.stdout.split("\n").filter((l) => l.trim().length > 0);
  const header = lines.findIndex((l) => l.trim().startsWith("GROUP"));
  const columns = lines[header]?.trim().split(/\s+/) ?? [];
  return lines.slice(header + 1).map((line) => {
    const cells = line.trim().split(/\s+/);
    return Object.fromEntries(columns.map((c, i) => [c, cells[i] ?? ""]));
  });
}

/**
 * The group's committed offsets as Kafka's own `kafka-consumer-groups` tool
 * reports them: partition → CURRENT-OFFSET (null for "-").
 */
export async function committedByKafkaTool(
  group: string,
  topic: string,
): Promise<Map<number, string | null>> {
  const rows = (await describeGroup(group, "--offsets")).filter((r) => r.TOPIC === topic);
  return new Map(
    rows.map((
      r,
    ) => [Number(r.PARTITION), r["CURRENT-OFFSET"] === "-" ? null : r["CURRENT-OFFSET"]!]),
  );
}

/**
 * A balanced member (kafkajs's consumer) that joins `group`, reading `topic`
 * (from committed offsets) and doing nothing with it but `onMessage`;
 * resolves once it joined. Its `leave()` leaves the group.
 */
export async function joinGroup(
  group: string,
  topic: string,
  { onMessage = () => {} }: { onMessage?: (partition: number, offset: string) => void } = {},
): Promise<{ leave(): Promise<void> }> {
  const member = createKafka(TEST_KAFKA, { clientIdSuffix: "member" }).consumer({ groupId: group });
  let joined = false;
  member.on(member.events.GROUP_JOIN, () => (joined = true));
  try {
    await member.connect();
    await member.subscribe({ topics: [topic] });
    await member.run({
      eachMessage: ({ partition, message }) =>
        Promise.resolve(onMessage(partition, message.offset)),
    });
    await waitFor(() => joined, { what: `a member to join group ${group}` });
  } catch (error) {
    await member.disconnect();
    throw error;
  }
  return { leave: () => member.disconnect() };
}

/** Produces `batch` records every `intervalMs`, round-robin over `partitions`, until stopped. */
export function steadyLoad(
  admin: KafkaAdmin,
  topic: string,
  { batch = 1, intervalMs = 100, partitions = 3, prefix = "m" } = {},
): { stop(): Promise<number> } {
  let running = true;
  let sent = 0;
  const loop = (async () => {
    while (running) {
      await admin.produce(
        topic,
        Array.from(
          { length: batch },
          (_, i) => ({ value: `${prefix}-${sent + i}`, partition: (sent + i) % partitions }),
        ),
      );
      sent += batch;
      await new Promise((r) => setTimeout(r, intervalMs));
    }
  })();
  return {
    /** Stops producing; resolves with how many records were sent. */
    async stop() {
      running = false;
      await loop;
      return sent;
    },
  };
}

/** Polls `fn` until it returns a truthy value or `timeoutMs` passes. */
export async function waitFor<T>(
  fn: () => T | Promise<T>,
  { timeoutMs = 30_000, intervalMs = 100, what = "condition" } = {},
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  while (Date.now() < deadline) {
    last = await fn();
    if (last) return last as NonNullable<T>;
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  throw new Error(
    `Timed out after ${timeoutMs} ms waiting for ${what} (last value: ${JSON.stringify(last)})`,
  );
}

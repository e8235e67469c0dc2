/**
 * A simple-mode consumer whose group has a balanced member: Kafka refuses
 * every commit it sends (without membership), so nothing it handles could
 * ever be committed. The daemon as a process on the real broker reports
 * the consumer `failing`, with Kafka's reason, instead of `running`.
 *
 * The platformatic engine (where such commits were only logged) runs in
 * the default suite; kafkajs with CONSUMERD_LONG_TESTS=1.
 */
import assert from "node:assert/strict";
import { fixtureHandler } from "../harness/daemon.ts";
import { getStatus, startHttpDaemon } from "../harness/http.ts";
import {
  ENGINES,
  joinGroup,
  produceNumbered,
  TEST_KAFKA,
  uniqueName,
  waitFor,
  withTopic,
} from "../harness/kafka.ts";
import { readValues } from "../harness/read_topic.ts";
import { KafkaAdmin } from "../../src/kafka/kafkajs/admin.ts";

const LONG_RUN = Deno.env.get("CONSUMERD_LONG_TESTS") === "1";

type Status = Awaited<ReturnType<typeof getStatus>>["consumers"][number];

/**
 * Runs consumer "c" (`fields`, in simple mode) in a daemon while a balanced
 * member holds its group, on a 1-partition topic of 5 messages; `check` gets
 * the consumer once it reports `failing`.
 */
async function failingBesideMember(
  fields: Record<string, unknown>,
  check: (
    failing: Status,
    topics: { topic: string; group: string; admin: KafkaAdmin },
  ) => Promise<void>,
): Promise<void> {
  await withTopic({ partitions: 1 }, async ({ topic, admin }) => {
    const group = uniqueName("g");
    await produceNumbered(admin, topic, { count: 5, partitions: 1 });
    const member = await joinGroup(group, topic);
    try {
      const { daemon, url } = await startHttpDaemon([{
        name: "c",
        group,
        topic,
        mode: "simple",
        ...fields,
      }]);
      try {
        const failing = await waitFor(async () => {
          const consumer = (await getStatus(url)).consumers[0]!;
          return consumer.state === "failing" ? consumer : null;
        }, { what: "the consumer to be failing", timeoutMs: 90_000, intervalMs: 500 });
        assert.match(failing.reason ?? "", /without membership: the group has active members/);
        await check(failing, { topic, group, admin });
      } finally {
        daemon.kill("SIGTERM");
        await daemon.exited();
      }
    } finally {
      await member.leave();
    }
  });
}

for (const engine of ENGINES) {
  Deno.test({
    name:
      `daemon (${engine}): a simple-mode consumer whose group has a balanced member is reported failing with Kafka's reason`,
    ignore: engine === "kafkajs" && !LONG_RUN,
    fn: () =>
      failingBesideMember({ engine, handler: fixtureHandler("record.ts") }, (failing) => {
        assert.match(failing.lastError ?? "", /the group has active members/);
        return Promise.resolve();
      }),
  });
}

Deno.test({
  name:
    "daemon (platformatic): a simple-mode exactly-once consumer whose group has a balanced member is reported failing with Kafka's reason, and commits nothing",
  // The plain commit's run of the same refusal stays in the default suite.
  ignore: !LONG_RUN,
}, async () => {
  const output = uniqueName("out");
  const admin = await KafkaAdmin.connect(TEST_KAFKA, "test-admin");
  try {
    await admin.ensureTopic(output, { partitions: 1 });
    await failingBesideMember({
      engine: "platformatic",
      handler: fixtureHandler("produce_eos.ts"),
      outputs: [output],
      delivery: "exactly-once",
      settings: { output },
    }, async (_failing, { topic, group }) => {
      assert.deepEqual(await readValues(output, "read_committed"), []);
      assert.deepEqual(await admin.committed(group, topic), [{ partition: 0, offset: null }]);
    });
  } finally {
    await admin.deleteTopics([output]).catch(() => {});
    await admin.close();
  }
});

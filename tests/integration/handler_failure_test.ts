/**
 * A failing handler never lets its message be committed unless it was
 * dead-lettered; order within a partition is kept.
 */
import assert from "node:assert/strict";
import { kafkaTool } from "../../scripts/broker.ts";
import { fixtureHandler, startDaemon, writeConsumersConfig } from "../harness/daemon.ts";
import { BROKERS, uniqueName, waitFor, withTopic } from "../harness/kafka.ts";

Deno.test("a message whose retries are spent goes to the dead-letter topic, with its origin in headers, and is committed past", async () => {
  await withTopic({ partitions: 1 }, async ({ topic, admin }) => {
    const group = uniqueName("g");
    const dlq = `${topic}.dlq`;
    await admin.ensureTopic(dlq, { partitions: 1 });
    try {
      await admin.produce(
        topic,
        ["ok-0", "bad-1", "ok-2"].map((value) => ({
          value,
          key: "k",
          headers: { trace: ["t1", "t2"], tenant: "x" },
        })),
      );
      const config = await writeConsumersConfig([{
        name: "c",
        group,
        topic,
        handler: fixtureHandler("fail_bad.ts"),
        retry: { attempts: 3, backoffMs: 10, maxBackoffMs: 20 },
        deadLetterTopic: dlq,
      }]);
      const d = startDaemon(config);
      await waitFor(() => d.handled().length === 2, { what: "the two good messages" });
      assert.deepEqual(
        d.handled().map((h) => h.value),
        ["ok-0", "ok-2"],
        "order kept, bad one skipped after DLQ",
      );
      assert.equal(d.logged("handler failed; retrying").length, 2, "3 attempts = 2 retries");
      assert.equal(await d.stop(), 0);
      assert.deepEqual(await admin.committed(group, topic), [{ partition: 0, offset: "3" }]);
      const out = await kafkaTool("console-consumer", [
        "--bootstrap-server",
        BROKERS[0]!,
        "--topic",
        dlq,
        "--from-beginning",
        "--max-messages",
        "1",
        "--timeout-ms",
        "20000",
        "--property",
        "print.headers=true",
        "--property",
        "print.key=true",
      ]);
      const line = out.stdout.trim();
      assert.match(line, /consumerd\.source\.topic:[^,\t]+/);
      assert.match(line, /consumerd\.source\.offset:1/);
      assert.match(line, /consumerd\.error:Error: cannot handle bad-1/);
      assert.match(line, /\tk\tbad-1$/, "same key and value");
      assert.match(line, /trace:t1,trace:t2,tenant:x,/, "headers kept, a repeated one repeated");
    } finally {
      await admin.deleteTopics([dlq]);
    }
  });
});

Deno.test("without a dead-letter topic, a failing message pauses its partition and is never committed; other partitions go on", async () => {
  await withTopic({ partitions: 2 }, async ({ topic, admin }) => {
    const group = uniqueName("g");
    await admin.produce(topic, [
      { value: "ok-a", partition: 0 },
      { value: "bad-b", partition: 0 },
      { value: "ok-c", partition: 0 },
      { value: "ok-d", partition: 1 },
      { value: "ok-e", partition: 1 },
    ]);
    const config = await writeConsumersConfig([{
      name: "c",
      group,
      topic,
      handler: fixtureHandler("fail_bad.ts"),
      retry: { attempts: 2, backoffMs: 10, maxBackoffMs: 1000 },
    }]);
    const d = startDaemon(config);
    await d.waitForLog("handler failed after retries; partition paused");
    await waitFor(() => d.handled().length === 3, { what: "ok-a, ok-d, ok-e" });
    // The paused partition is retried after maxBackoffMs, and fails again: never skipped.
    await waitFor(() => d.logged("handler failed after retries; partition paused").length >= 2, {
      what: "a second round of attempts",
    });
    assert.deepEqual(d.handled().map((h) => h.value).sort(), ["ok-a", "ok-d", "ok-e"]);
    assert.equal(await d.stop(), 0);
    assert.deepEqual(await admin.committed(group, topic), [
      { partition: 0, offset: "1" },
      { partition: 1, offset: "2" },
    ]);
  });
});

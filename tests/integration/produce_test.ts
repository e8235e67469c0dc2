/**
 * `ctx.produce()` on the real broker, both engines: outputs land with the
 * input's key and headers, in order per partition, before the input is
 * committed; a topic not in `outputs` fails the call with an error naming
 * the field; a produce that fails leaves its input uncommitted until it
 * succeeds.
 */
import assert from "node:assert/strict";
import { fixtureHandler } from "../harness/daemon.ts";
import { ENGINES, type TestTopic, uniqueName, waitFor, withTopic } from "../harness/kafka.ts";
import { API } from "../harness/kafka_frames.ts";
import { type KafkaProxy, startKafkaProxy } from "../harness/kafka_proxy.ts";
import { readTopic } from "../harness/read_topic.ts";
import { firstStart, startLocalWorker } from "../harness/worker_loop.ts";

const INPUTS = 30;
const PARTITIONS = 2;

/** `INPUTS` records with keys and a repeated header, spread over the partitions. */
function inputs() {
  return Array.from({ length: INPUTS }, (_, i) => ({
    value: `m-${i}`,
    key: `k-${i % 5}`,
    partition: i % PARTITIONS,
    headers: { trace: ["t1", `t-${i}`], tenant: "x" },
  }));
}

/** A worker whose handler produces each message to `output` once, and pauses on a failure. */
function startProducing(
  { group, topic, output, retryAfterMs }: {
    group: string;
    topic: string;
    output: string;
    retryAfterMs: number;
  },
  options: Parameters<typeof startLocalWorker>[1],
) {
  return startLocalWorker({
    group,
    topic,
    handler: fixtureHandler("produce.ts"),
    outputs: [output],
    settings: { output },
    commit: { mode: "auto", intervalMs: 200 },
    retry: { attempts: 1, backoffMs: 10, maxBackoffMs: retryAfterMs },
  }, options);
}

const SHAPES = [
  { name: "ordering partition", fields: { handler: fixtureHandler("produce.ts") } },
  {
    name: "ordering key",
    fields: { handler: fixtureHandler("produce.ts"), ordering: "key", concurrency: 4 },
  },
  { name: "handleBatch", fields: { handler: fixtureHandler("produce_batch.ts") } },
];

for (const engine of ENGINES) {
  for (const shape of SHAPES) {
    Deno.test(`ctx.produce() (${engine}, ${shape.name}): one output per input with its key and headers, in partition order, committed after`, async () => {
      await withTopic({ partitions: PARTITIONS }, async ({ topic, admin }) => {
        const output = `${topic}.out`;
        await admin.ensureTopic(output, { partitions: PARTITIONS });
        try {
          await admin.produce(topic, inputs());
          const group = uniqueName("g");
          const worker = await startLocalWorker({
            group,
            topic,
            outputs: [output],
            settings: { output },
            commit: { mode: "auto", intervalMs: 200 },
            ...shape.fields,
          }, { engine });
          try {
            await waitFor(async () => {
              const committed = await admin.committed(group, topic);
              return committed.reduce((n, c) => n + Number(c.offset), 0) === INPUTS;
            }, { what: `${INPUTS} inputs committed` });
          } finally {
            await worker.stop();
          }
          const outputs = await readTopic(admin, output);
          assert.equal(outputs.length, INPUTS, "one output per input");
          for (const out of outputs) {
            const i = Number(out.value!.slice("out:m-".length));
            assert.equal(out.value, `out:m-${i}`);
            assert.equal(out.key, `k-${i % 5}`, "key copied");
            assert.equal(out.partition, i % PARTITIONS);
            assert.deepEqual(out.headers.trace, ["t1", `t-${i}`], "a repeated header repeated");
            assert.deepEqual(out.headers.tenant, ["x"]);
            assert.deepEqual(out.headers["source.offset"], [String(Math.floor(i / PARTITIONS))]);
          }
          if (shape.name !== "ordering key") {
            for (let p = 0; p < PARTITIONS; p++) {
              const offsets = outputs.filter((o) => o.partition === p).map((o) =>
                Number(o.headers["source.offset"]![0])
              );
              assert.deepEqual(offsets, [...offsets].sort((a, b) => a - b), "input order kept");
            }
          }
        } finally {
          await admin.deleteTopics([output]);
        }
      });
    });
  }

  Deno.test(`ctx.produce() (${engine}) to a topic not in outputs fails the call, naming the field; never dead-lettered, never committed`, async () => {
    await withTopic({ partitions: 1 }, async ({ topic, admin }) => {
      const dlq = `${topic}.dlq`;
      await admin.ensureTopic(dlq, { partitions: 1 });
      try {
        await admin.produce(topic, [{ value: "m-0", partition: 0 }]);
        const group = uniqueName("g");
        const worker = await startLocalWorker({
          group,
          topic,
          handler: fixtureHandler("produce.ts"),
          outputs: [`${topic}.granted`],
          settings: { output: `${topic}.other` },
          retry: { attempts: 2, backoffMs: 10, maxBackoffMs: 60_000 },
          deadLetterTopic: dlq,
        }, { engine, source: true });
        try {
          const failure = await waitFor(() => worker.of("error")[0], { what: "the failure" });
          assert.equal(failure.fatal, false);
          assert.equal(failure.error.name, "OutputNotAllowedError");
          const other = JSON.stringify(`${topic}.other`);
          const granted = JSON.stringify(`${topic}.granted`);
          assert.equal(
            failure.error.message.replace(/consumers\.yaml:\d+/, "consumers.yaml:N"),
            `Cannot produce to topic ${other}: it is not in consumers[0].outputs ` +
              `(consumers.yaml:N), which lists ${granted}; add it there to let the handler ` +
              "produce to it",
          );
        } finally {
          await worker.stop();
        }
        assert.deepEqual(
          await admin.committed(group, topic),
          [{ partition: 0, offset: "0" }],
          "the start position only: nothing committed past the message",
        );
        assert.equal((await admin.watermarks(dlq))[0]?.high, "0", "nothing dead-lettered");
      } finally {
        await admin.deleteTopics([dlq]);
      }
    });
  });

  Deno.test(`ctx.produce() (${engine}) that fails (output topic missing) leaves the input uncommitted; once the topic exists it is produced and committed`, async () => {
    await withTopic({ partitions: 1 }, async ({ topic, admin }) => {
      const output = `${topic}.late`;
      try {
        await admin.produce(topic, [{ value: "unawaited", partition: 0, key: "k" }]);
        const group = uniqueName("g");
        const worker = await startProducing({ group, topic, output, retryAfterMs: 1500 }, {
          engine,
        });
        try {
          await waitFor(() => worker.of("error")[0], { what: "the failed produce" });
          assert.deepEqual(
            await admin.committed(group, topic),
            [{ partition: 0, offset: "0" }],
            "the start position only: the message is not committed",
          );
          await admin.ensureTopic(output, { partitions: 1 });
          await waitFor(async () => (await admin.committed(group, topic))[0]?.offset === "1", {
            what: "the input committed once its output was written",
          });
        } finally {
          await worker.stop();
        }
        const outputs = await readTopic(admin, output);
        assert.deepEqual(outputs.map((o) => [o.key, o.value]), [["k", "out:unawaited"]]);
      } finally {
        await admin.deleteTopics([output]);
      }
    });
  });
}

for (const engine of ENGINES) {
  Deno.test(`ctx.produce() (${engine}) to a partition the output topic does not have fails the call; the input is not committed`, async () => {
    await withTopic({ partitions: 2 }, async ({ topic, admin }) => {
      const output = `${topic}.narrow`;
      await admin.ensureTopic(output, { partitions: 1 });
      try {
        // Produced to the input's partition: 1, which the output topic lacks.
        await admin.produce(topic, [{ value: "m-1", partition: 1, key: "k" }]);
        const group = uniqueName("g");
        const worker = await startProducing({ group, topic, output, retryAfterMs: 60_000 }, {
          engine,
        });
        try {
          const failure = await waitFor(() => worker.of("error")[0], {
            what: "the failed produce",
          });
          assert.equal(failure.error.name, "RangeError");
          assert.match(failure.error.message, /partition 1 of topic .* has no such partition/);
        } finally {
          await worker.stop();
        }
        const committed = await admin.committed(group, topic);
        assert.equal(committed.find((c) => c.partition === 1)?.offset, "0", "not committed");
        assert.equal((await admin.watermarks(output))[0]?.high, "0");
      } finally {
        await admin.deleteTopics([output]);
      }
    });
  });
}

for (const engine of ENGINES) {
  Deno.test(`ctx.produce() (${engine}): 150,000 one-byte records from one call, more than one request can carry once framed, all land and the input is committed`, async () => {
    await withTopic({ partitions: 1 }, async ({ topic, admin }) => {
      const output = `${topic}.out`;
      await admin.ensureTopic(output, { partitions: 1 });
      try {
        const group = uniqueName("g");
        await admin.produce(topic, [{ value: "fan-out:150000", partition: 0 }]);
        const worker = await startProducing({ group, topic, output, retryAfterMs: 60_000 }, {
          engine,
        });
        try {
          await waitFor(async () => (await admin.committed(group, topic))[0]?.offset === "1", {
            what: "the input committed",
            timeoutMs: 60_000,
          });
          assert.deepEqual(worker.of("error"), [], "no call failed");
        } finally {
          await worker.stop();
        }
        assert.equal((await admin.watermarks(output))[0]?.high, "150000");
      } finally {
        await admin.deleteTopics([output]);
      }
    });
  });
}

/** Runs `fn` with a Kafka-aware proxy, a 1-partition input topic and its output topic. */
async function withProxiedTopics(
  fn: (
    t: { proxy: KafkaProxy; topic: string; output: string; admin: TestTopic["admin"] },
  ) => Promise<void>,
): Promise<void> {
  const proxy = await startKafkaProxy();
  try {
    await withTopic({ partitions: 1 }, async ({ topic, admin }) => {
      const output = `${topic}.out`;
      await admin.ensureTopic(output, { partitions: 1 });
      try {
        await fn({ proxy, topic, output, admin });
      } finally {
        await admin.deleteTopics([output]);
      }
    });
  } finally {
    proxy.close();
  }
}

for (const engine of ENGINES) {
  Deno.test(`ctx.produce() (${engine}) through the Kafka-aware proxy: Produce requests that never arrive fail the call and leave the input uncommitted; answers lost are sent again without duplicates`, async () => {
    await withProxiedTopics(async ({ proxy, topic, output, admin }) => {
      const group = uniqueName("g");
      // Every Produce is cut on arrival: no output reaches the broker.
      proxy.cut(API.produce, { when: "request", times: Infinity });
      const worker = await startProducing({ group, topic, output, retryAfterMs: 1000 }, {
        engine,
        brokers: proxy.brokers,
      });
      try {
        await firstStart(worker);
        await admin.produce(topic, [{ value: "m-0", partition: 0, key: "k" }]);
        await waitFor(() => worker.of("error")[0], { what: "the failed produce" });
        assert.deepEqual(
          await admin.committed(group, topic),
          [{ partition: 0, offset: "0" }],
          "the start position only: the message is not committed",
        );
        assert.equal((await admin.watermarks(output))[0]?.high, "0");
        // Now the next two Produce requests are applied and their answers lost: the
        // idempotent producer sends again, and the broker keeps one copy.
        proxy.uncut(API.produce);
        const lost = proxy.cut(API.produce, { when: "answer", times: 2 });
        await lost.all;
        await waitFor(async () => (await admin.committed(group, topic))[0]?.offset === "1", {
          what: "the input committed once its output was acknowledged",
        });
      } finally {
        await worker.stop();
      }
      const outputs = await readTopic(admin, output);
      assert.deepEqual(outputs.map((o) => [o.key, o.value]), [["k", "out:m-0"]], "one copy");
    });
  });
}

for (const engine of ENGINES) {
  Deno.test(`ctx.produce() (${engine}): the worker's producer connects as the worker starts, before any input arrives`, async () => {
    await withProxiedTopics(async ({ proxy, topic, output }) => {
      const worker = await startProducing(
        { group: uniqueName("g"), topic, output, retryAfterMs: 1000 },
        { engine, brokers: proxy.brokers },
      );
      try {
        await firstStart(worker);
        // The idempotent producer asks for its producer id as it connects.
        const asked = await waitFor(
          () => proxy.requests(API.initProducerId).find((r) => r.clientId?.endsWith("-out")),
          { what: "the producer's InitProducerId", timeoutMs: 10_000 },
        );
        assert.equal(proxy.requests(API.produce).length, 0, "nothing produced yet");
        assert.ok(asked.answeredAt !== null, "connected");
      } finally {
        await worker.stop();
      }
    });
  });
}

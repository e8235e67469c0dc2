/**
 * `delivery: exactly-once` on the real broker (platformatic engine): outputs
 * are written only with the commit that commits their inputs, a call that
 * produced and then failed leaves nothing, and a worker that dies in the
 * middle of a transaction leaves, once the next run of its slot is done,
 * every input's output exactly once under read_committed.
 */
import assert from "node:assert/strict";
import { hostname } from "node:os";
import { kafkaTool } from "../../scripts/broker.ts";
import {
  TransactionalCommitter,
  transactionalId,
} from "../../src/kafka/platformatic/transactions.ts";
import { createLogger } from "../../src/log.ts";
import { fixtureHandler } from "../harness/daemon.ts";
import { BROKERS, kafkaWith, uniqueName, waitFor, withTopic } from "../harness/kafka.ts";
import type { KafkaAdmin } from "../../src/kafka/kafkajs/admin.ts";
import { API } from "../harness/kafka_frames.ts";
import { startKafkaProxy } from "../harness/kafka_proxy.ts";
import { firstStart, type LocalWorker, startLocalWorker } from "../harness/worker_loop.ts";
import { readValues } from "../harness/read_topic.ts";

/** A worker of consumer "c" (replica 0: one transactional id) producing to `output` exactly once. */
function startExactlyOnce(
  { group, topic, output, commit, fields = {} }: {
    group: string;
    topic: string;
    output: string;
    commit: Record<string, unknown>;
    /** More of the consumer's fields (they replace the ones above). */
    fields?: Record<string, unknown>;
  },
  brokers = BROKERS,
  kafka: Record<string, unknown> = {},
): Promise<LocalWorker> {
  return startLocalWorker({
    group,
    topic,
    handler: fixtureHandler("produce_eos.ts"),
    outputs: [output],
    delivery: "exactly-once",
    settings: { output },
    commit,
    retry: { attempts: 3, backoffMs: 10, maxBackoffMs: 1000 },
    ...fields,
  }, { engine: "platformatic", brokers, kafka });
}

/**
 * Runs `fn` with a fresh input topic, its output topic `<topic>.out` (both
 * of `partitions` partitions) and a fresh group; deletes the output after.
 */
async function withOutput(
  partitions: number,
  fn: (
    topics: { topic: string; output: string; group: string; admin: KafkaAdmin },
  ) => Promise<void>,
): Promise<void> {
  await withTopic({ partitions }, async ({ topic, admin }) => {
    const output = `${topic}.out`;
    await admin.ensureTopic(output, { partitions });
    try {
      await fn({ topic, output, group: uniqueName("g"), admin });
    } finally {
      await admin.deleteTopics([output]);
    }
  });
}

/** The JSON log lines workers in this process write (to console.error) from now until `stop()`. */
function captureLogs() {
  const lines: Array<{ level: string; msg: string }> = [];
  const original = console.error;
  console.error = (...args: unknown[]) => {
    try {
      lines.push(JSON.parse(String(args[0])));
    } catch {
      // not a log line
    }
    original(...args);
  };
  return { logged: () => [...lines], stop: () => (console.error = original) };
}

const processed = (worker: LocalWorker, partition: number) =>
  worker.of("offsets").flatMap((o) => o.partitions).filter((p) => p.partition === partition)
    .at(-1)?.processed ?? null;

Deno.test("exactly-once: outputs are written with the commit of their inputs; a call that produced then threw leaves only its retry's outputs", async () => {
  await withOutput(1, async ({ topic, output, group, admin }) => {
    const worker = await startExactlyOnce({ group, topic, output, commit: { mode: "manual" } });
    try {
      await firstStart(worker);
      await admin.produce(
        topic,
        ["a", "fail-once-b", "c"].map((value) => ({ value, partition: 0 })),
      );
      await waitFor(() => processed(worker, 0) === "2", { what: "3 inputs handled" });
      assert.equal(worker.of("error").length, 0, "the failed attempt was retried, not given up");
      assert.equal(
        (await admin.watermarks(output))[0]?.high,
        "0",
        "nothing written before a commit",
      );

      await admin.produce(topic, [{ value: "commit-now", partition: 0 }]);
      await waitFor(async () => (await admin.committed(group, topic))[0]?.offset === "3", {
        what: "the 3 inputs before commit-now committed",
      });
      assert.deepEqual(await readValues(output, "read_committed"), [
        "out:a",
        "out:fail-once-b",
        "out:c",
      ]);
      // The failed attempt's record was never sent: 3 records and the commit marker.
      assert.equal((await admin.watermarks(output))[0]?.high, "4");
    } finally {
      await worker.stop();
    }
  });
});

Deno.test("exactly-once: ctx.produce() refuses a record the broker would refuse in the transaction (too large, missing topic, missing partition): its call is dead-lettered, the rest commit", async () => {
  await withOutput(1, async ({ topic, output, group, admin }) => {
    const missing = `${topic}.missing`;
    const dlq = `${topic}.dlq`;
    await admin.ensureTopic(dlq, { partitions: 1 });
    const worker = await startExactlyOnce({
      group,
      topic,
      output,
      commit: { mode: "auto", intervalMs: 200 },
      fields: {
        outputs: [output, missing],
        settings: { output, missing },
        deadLetterTopic: dlq,
        retry: { attempts: 2, backoffMs: 10, maxBackoffMs: 20 },
      },
    });
    try {
      await firstStart(worker);
      const values = ["a", "big-2048", "to-missing", "to-partition-3", "b"];
      await admin.produce(topic, values.map((value) => ({ value, partition: 0 })));
      await waitFor(async () => (await admin.committed(group, topic))[0]?.offset === "5", {
        what: "the 5 inputs committed",
        timeoutMs: 15_000,
      });
      assert.deepEqual(worker.of("error").filter((e) => e.fatal), [], "no transaction failed");
      assert.deepEqual(await readValues(output, "read_committed"), ["out:a", "out:b"]);
      assert.equal((await readValues(dlq, "read_committed")).length, 3, "3 dead letters");
    } finally {
      await worker.stop();
      await admin.deleteTopics([dlq]);
    }
  });
});

Deno.test("exactly-once: a dead-letter topic that does not exist pauses the partition (the copy is refused), it does not fail the transaction", async () => {
  await withOutput(1, async ({ topic, output, group, admin }) => {
    const missing = `${topic}.missing`;
    const worker = await startExactlyOnce({
      group,
      topic,
      output,
      commit: { mode: "auto", intervalMs: 200 },
      fields: {
        outputs: [output, missing],
        settings: { output, missing },
        deadLetterTopic: `${topic}.dlq-missing`,
        retry: { attempts: 1, backoffMs: 10, maxBackoffMs: 60_000 },
      },
    });
    try {
      await firstStart(worker);
      await admin.produce(topic, ["a", "to-missing"].map((value) => ({ value, partition: 0 })));
      const paused = await waitFor(() => worker.of("error").find((e) => !e.fatal), {
        what: "the partition paused at the message that could not be dead-lettered",
      });
      assert.equal(paused.offset, "1");
      await waitFor(async () => (await admin.committed(group, topic))[0]?.offset === "1", {
        what: "the message before it committed",
      });
      assert.deepEqual(worker.of("error").filter((e) => e.fatal), [], "no transaction failed");
    } finally {
      await worker.stop();
    }
  });
});

Deno.test("exactly-once: a commit whose outputs pass 1 MiB on one output partition is sent in parts and commits", async () => {
  await withOutput(1, async ({ topic, output, group, admin }) => {
    const worker = await startExactlyOnce({ group, topic, output, commit: { mode: "manual" } });
    try {
      await firstStart(worker);
      // 5 × 300 KiB on output partition 0, all in the transaction of commit-now.
      const values = ["big-300-0", "big-300-1", "big-300-2", "big-300-3", "big-300-4"];
      await admin.produce(
        topic,
        [...values, "commit-now"].map((value) => ({ value, partition: 0 })),
      );
      await waitFor(async () => (await admin.committed(group, topic))[0]?.offset === "5", {
        what: "the 5 inputs before commit-now committed",
        timeoutMs: 15_000,
      });
      assert.deepEqual(worker.of("error").filter((e) => e.fatal), [], "no transaction failed");
      const outputs = await readValues(output, "read_committed");
      assert.deepEqual(outputs.map((o) => o.slice(0, 13)), values.map((v) => `out:${v}`));
    } finally {
      await worker.stop();
    }
  });
});

Deno.test("exactly-once: a commit sends one TxnOffsetCommit for all its partitions, in a transaction that times out after 60 s", async () => {
  const proxy = await startKafkaProxy();
  try {
    await withOutput(3, async ({ topic, output, group, admin }) => {
      const worker = await startExactlyOnce(
        { group, topic, output, commit: { mode: "manual" } },
        proxy.brokers,
      );
      try {
        await firstStart(worker);
        await admin.produce(topic, [0, 1, 2].map((partition) => ({ value: "a", partition })));
        await waitFor(() => [0, 1, 2].every((p) => processed(worker, p) === "0"), {
          what: "an input handled on each partition",
        });
        const before = proxy.requests(API.txnOffsetCommit).length;
        await admin.produce(topic, [{ value: "commit-now", partition: 0 }]);
        await waitFor(
          async () =>
            (await admin.committed(group, topic)).filter((c) => c.offset === "1").length === 3,
          { what: "the 3 partitions committed" },
        );
        assert.equal(proxy.requests(API.txnOffsetCommit).length - before, 1);
        const { stdout } = await kafkaTool("transactions", [
          "--bootstrap-server",
          BROKERS[0]!,
          "describe",
          "--transactional-id",
          transactionalId({ group, consumer: "c", replica: 0, daemon: hostname() }),
        ]);
        // A table: a header line, then the transaction's line.
        const [header, row] = stdout.trim().split("\n").map((line) => line.trim().split(/\s+/));
        assert.equal(row?.[header!.indexOf("TransactionTimeoutMs")], "60000", stdout);
      } finally {
        await worker.stop();
      }
    });
  } finally {
    proxy.close();
  }
});

Deno.test("exactly-once with ordering: key: a worker killed while messages beyond its commit point finished leaves, after the next run, each input's output once", async () => {
  const proxy = await startKafkaProxy();
  let proxyOpen = true;
  try {
    await withOutput(1, async ({ topic, output, group, admin }) => {
      const fields = { ordering: "key", concurrency: 4 };
      const commit = { mode: "auto", intervalMs: 200 };
      // Offset 0 (key "slow") is still running when the worker dies; 1…9 (other keys) finished.
      const inputs = [
        { key: "slow", value: "sleep-20000", partition: 0 },
        ...Array.from({ length: 9 }, (_, i) => ({ key: `k${i}`, value: `m-${i}`, partition: 0 })),
      ];
      // A short session: the next run gets the partition soon after the first stops heartbeating.
      const first = await startExactlyOnce(
        { group, topic, output, commit, fields },
        proxy.brokers,
        { sessionTimeoutMs: 6000 },
      );
      try {
        await firstStart(first);
        await admin.produce(topic, inputs);
        // Committed in a transaction: offset 0, with 1…9 finished in its metadata, and their outputs.
        await waitFor(
          async () =>
            Number((await admin.watermarks(output))[0]?.high) >= 10 &&
            (await admin.committed(group, topic))[0]?.offset === "0",
          { what: "offset 0 committed with the outputs of the 9 finished inputs after it" },
        );
        assert.equal((await readValues(output, "read_committed")).length, 9);
      } finally {
        proxy.close(); // the worker dies: nothing it sends reaches the broker any more
        proxyOpen = false;
        await first.stop(500).catch(() => {});
      }
      const second = await startExactlyOnce({ group, topic, output, commit, fields });
      try {
        await waitFor(async () => (await admin.committed(group, topic))[0]?.offset === "10", {
          what: "every input committed by the second run",
        });
      } finally {
        await second.stop();
      }
      const outputs = await readValues(output, "read_committed");
      assert.deepEqual(outputs.toSorted(), inputs.map((i) => `out:${i.value}`).toSorted());
    });
  } finally {
    if (proxyOpen) proxy.close();
  }
});

Deno.test("exactly-once with commit.mode: manual: a produce that would pass 64 MiB waiting for ctx.commit() fails its call, naming the field", async () => {
  await withOutput(1, async ({ topic, output, group, admin }) => {
    const worker = await startExactlyOnce({
      group,
      topic,
      output,
      commit: { mode: "manual" },
      fields: { retry: { attempts: 1, backoffMs: 10, maxBackoffMs: 60_000 } },
    });
    try {
      await firstStart(worker);
      // 1,024,000 bytes each: 65 wait (66,560,000 bytes), the 66th would pass 67,108,864.
      await admin.produce(
        topic,
        Array.from({ length: 70 }, (_, i) => ({ value: `big-1000-${i}`, partition: 0 })),
      );
      const refused = await waitFor(() => worker.of("error").find((e) => !e.fatal), {
        what: "the produce past the bound refused",
      });
      assert.equal(refused.offset, "65");
      assert.match(refused.error.message, /commit\.mode: manual/);
      assert.match(
        refused.error.message,
        /would pass 67108864 bytes; call ctx\.commit\(\) more often/,
      );
      await waitFor(() => processed(worker, 0) === "64", { what: "the 65 before it handled" });
    } finally {
      await worker.stop();
    }
  });
});

/** The simple-mode run of the mid-transaction death: CONSUMERD_LONG_TESTS=1 (`deno task test:long`). */
const LONG_RUN = Deno.env.get("CONSUMERD_LONG_TESTS") === "1";

for (const mode of ["balanced", "simple"] as const) {
  Deno.test({
    name:
      `exactly-once (mode: ${mode}): a worker that dies in the middle of a transaction leaves, after the next run, each input's output once under read_committed`,
    ignore: mode === "simple" && !LONG_RUN,
  }, async () => {
    const proxy = await startKafkaProxy();
    try {
      await withOutput(2, async ({ topic, output, group, admin }) => {
        const inputs = Array.from(
          { length: 10 },
          (_, i) => ({ value: `m-${i}`, partition: i % 2 }),
        );
        const { logged, stop: stopCapture } = captureLogs();
        const fields = { mode };
        const first = await startExactlyOnce(
          { group, topic, output, commit: { mode: "auto", intervalMs: 200 }, fields },
          proxy.brokers,
        );
        try {
          await firstStart(first);
          // From now on the first run's transactions never end: each EndTxn (commit or abort)
          // is cut before it reaches the broker.
          proxy.cut(API.endTxn, { when: "request", times: Infinity });
          await admin.produce(topic, inputs);
          await waitFor(() => first.of("error").find((e) => e.fatal), {
            what: "the first run's transaction failed",
          });
          const sent = await readValues(output, "read_uncommitted");
          assert(sent.length > 0, "the outputs were sent in the transaction left open");
          // The failure is logged once, however many commit intervals pass before the worker stops.
          const repeated = Object.entries(Object.groupBy(logged(), (line) => line.msg))
            .filter(([, lines]) => lines!.length > 1 && lines![0]!.level !== "info");
          assert.deepEqual(repeated.map(([msg, lines]) => `${lines!.length} × ${msg}`), []);
        } finally {
          await first.stop(3_000).catch(() => {});
          stopCapture();
        }
        // The next run of the slot (same transactional id) ends what the first left open.
        const second = await startExactlyOnce({
          group,
          topic,
          output,
          commit: { mode: "auto", intervalMs: 200 },
          fields,
        });
        try {
          await waitFor(async () => {
            const committed = await admin.committed(group, topic);
            return committed.reduce((n, c) => n + Number(c.offset), 0) === inputs.length;
          }, { what: "every input committed by the second run" });
        } finally {
          await second.stop();
        }
        const outputs = await readValues(output, "read_committed");
        assert.deepEqual(outputs.toSorted(), inputs.map((i) => `out:${i.value}`).toSorted());
        const aborted = (await readValues(output, "read_uncommitted")).length - outputs.length;
        assert(aborted > 0, "the first run's outputs are there, aborted");
      });
    } finally {
      proxy.close();
    }
  });
}

Deno.test("exactly-once in simple mode: a transaction carries the outputs and the input offsets of a group without members (generation -1, no member id)", async () => {
  await withOutput(2, async ({ topic, output, group, admin }) => {
    const worker = await startExactlyOnce({
      group,
      topic,
      output,
      commit: { mode: "manual" },
      fields: { mode: "simple" },
    });
    try {
      await firstStart(worker);
      await admin.produce(topic, [
        { value: "a", partition: 0 },
        { value: "fail-once-b", partition: 1 },
        { value: "c", partition: 0 },
      ]);
      await waitFor(() => processed(worker, 0) === "1" && processed(worker, 1) === "0", {
        what: "3 inputs handled",
      });
      assert.deepEqual(await readValues(output, "read_uncommitted"), [], "nothing sent yet");
      await admin.produce(topic, [{ value: "commit-now", partition: 0 }]);
      await waitFor(async () => {
        const committed = await admin.committed(group, topic);
        return committed.map((c) => c.offset).join() === "2,1";
      }, { what: "both partitions committed" });
      assert.deepEqual((await readValues(output, "read_committed")).toSorted(), [
        "out:a",
        "out:c",
        "out:fail-once-b",
      ]);
      assert.equal(worker.of("error").length, 0);
    } finally {
      await worker.stop();
    }
  });
});

Deno.test("exactly-once in simple mode: a second daemon reading the same partition (another instanceId, as a new pod beside a draining one) fences the first; each input's output once under read_committed", async () => {
  await withOutput(1, async ({ topic, output, group, admin }) => {
    const consumer = {
      group,
      topic,
      output,
      commit: { mode: "auto", intervalMs: 100 },
      fields: { mode: "simple" },
    };
    const inputs = Array.from({ length: 20 }, (_, i) => `sleep-150-${i}`);
    await admin.produce(topic, inputs.map((value) => ({ value, partition: 0 })));
    const first = await startExactlyOnce(consumer, BROKERS, { instanceId: "pod-a" });
    let second: LocalWorker | null = null;
    try {
      await waitFor(() => processed(first, 0) !== null, { what: "the first daemon handling" });
      second = await startExactlyOnce(consumer, BROKERS, { instanceId: "pod-b" });
      await waitFor(async () => (await admin.committed(group, topic))[0]?.offset === "20", {
        what: "every input committed",
        timeoutMs: 60_000,
      });
      const values = await readValues(output, "read_committed");
      const twice = inputs.filter((v) => values.filter((o) => o === `out:${v}`).length > 1);
      assert.deepEqual(twice, [], "inputs whose output was committed twice");
      assert.deepEqual(values.toSorted(), inputs.map((v) => `out:${v}`).toSorted());
    } finally {
      await first.stop().catch(() => {});
      await second?.stop().catch(() => {});
    }
  });
});

Deno.test("exactly-once under the consumer group protocol: a second worker joining while the first commits transactions (member epochs move under them) leaves each input's output once under read_committed, with no transaction failed", async () => {
  await withOutput(4, async ({ topic, output, group, admin }) => {
    const commit = { mode: "auto", intervalMs: 100 };
    const fields = { groupProtocol: "consumer" };
    // Distinct daemons: distinct transactional ids.
    const first = await startExactlyOnce({ group, topic, output, commit, fields }, BROKERS, {
      instanceId: "a",
    });
    let second: LocalWorker | null = null;
    let sent = 0;
    try {
      await firstStart(first);
      second = await startExactlyOnce({ group, topic, output, commit, fields }, BROKERS, {
        instanceId: "b",
      });
      // Inputs keep arriving until the partitions moved, and a while after.
      const joined = () => second!.of("started").some((s) => s.started.length > 0);
      let after = 0;
      while (after < 10) {
        const batch = Array.from({ length: 8 }, (_, i) => ({
          value: `m-${sent + i}`,
          partition: (sent + i) % 4,
        }));
        await admin.produce(topic, batch);
        sent += batch.length;
        if (joined()) after++;
        else assert(sent < 8_000, "the second worker took partitions in time");
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      await waitFor(async () => {
        const committed = await admin.committed(group, topic);
        return committed.reduce((n, c) => n + Number(c.offset ?? 0), 0) === sent;
      }, { what: "every input committed", timeoutMs: 60_000 });
      assert.deepEqual([...first.of("error"), ...second.of("error")], [], "no transaction failed");
    } finally {
      await second?.stop();
      await first.stop();
    }
    const outputs = await readValues(output, "read_committed");
    assert.equal(outputs.length, sent, "each input's output once");
    assert.deepEqual(
      outputs.toSorted(),
      Array.from({ length: sent }, (_, i) => `out:m-${i}`).toSorted(),
    );
  });
});

/**
 * A consumer-protocol member of `group` reading `topic` (a worker that
 * handles nothing of it), and a committer of its own transactional id that
 * commits as that member, `epochs` giving the epoch each attempt reads.
 */
async function withMemberCommitter(
  { group, topic, output }: { group: string; topic: string; output: string },
  fn: (commit: (epochs: (now: number) => number | null) => Promise<void>) => Promise<void>,
): Promise<void> {
  const worker = await startLocalWorker(
    { group, topic, handler: fixtureHandler("record.ts"), groupProtocol: "consumer" },
    { engine: "platformatic" },
  );
  const committer = await TransactionalCommitter.create({
    kafka: kafkaWith("platformatic"),
    clientIdSuffix: "member-committer",
    transactionalId: uniqueName("tx"),
    group,
    topic,
    take: () => [{ topic: output, value: "out", partition: 0 }],
    logger: createLogger({ level: "error" }),
  });
  try {
    await firstStart(worker);
    const { memberId, generation } = worker.of("membership").at(-1)!;
    const epoch = generation!; // the platformatic engine reports a member once it joined
    await fn((epochs) =>
      committer.commit([{ partition: 0, offset: "1" }], {
        group,
        generation: epoch,
        memberId,
        instanceId: null,
        coordinator: 1,
        epoch: () => epochs(epoch),
      })
    );
  } finally {
    await committer.close();
    await worker.stop();
  }
}

Deno.test("exactly-once under the consumer group protocol: offsets refused under a stale member epoch (ILLEGAL_GENERATION) are sent again under the member's new one, in the same transaction", async () => {
  await withOutput(1, async ({ topic, output, group, admin }) => {
    await withMemberCommitter({ group, topic, output }, async (commit) => {
      let reads = 0;
      // The first read is behind the coordinator's epoch, as when an assignment bumped it meanwhile.
      await commit((now) => reads++ === 0 ? now - 1 : now);
      assert(reads >= 3, `the epoch read again after the refusal (${reads} reads)`);
      assert.deepEqual(await admin.committed(group, topic), [{ partition: 0, offset: "1" }]);
      assert.deepEqual(await readValues(output, "read_committed"), ["out"]);
    });
  });
});

Deno.test("exactly-once under the consumer group protocol: a member that lost its partitions while its transaction was sent commits neither outputs nor offsets", async () => {
  await withOutput(1, async ({ topic, output, group, admin }) => {
    await withMemberCommitter({ group, topic, output }, async (commit) => {
      await assert.rejects(() => commit(() => null), /the member lost its partitions/);
      assert.notEqual((await admin.committed(group, topic))[0]?.offset, "1");
      assert.deepEqual(await readValues(output, "read_committed"), []);
    });
  });
});

/**
 * `ordering: key` and `none` with the daemon as users run it, on the real
 * broker: calls of one key never overlap and run in offset order, other
 * keys run in parallel up to `concurrency`; commits never pass an
 * unfinished message, and what the commit's metadata lists as finished is
 * not handled again after a SIGKILL.
 *
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { startDaemon, writeConfig, writeConsumersConfig } from "../harness/daemon.ts";
import { getMetrics, getStatus, samples, startHttpDaemon } from "../harness/http.ts";
import { encodeCommitMetadata } from "../../src/offsets/commit_metadata.ts";
import { BROKERS, ENGINES, uniqueName, waitFor, withTopic } from "../harness/kafka.ts";
import {
  at,
  type CallRecord,
  commitAsTool,
  committedWithMetadata,
  evictMembers,
  keyedConsumer,
  keyOrder,
  peak,
  readCalls,
} from "../harness/ordering.ts";

/** A fresh file for the handler's records. */
async function recordFile(): Promise<string> {
  return join(await Deno.makeTempDir({ prefix: "consumerd-ordering-" }), "calls.jsonl");
}

/**
 * Waits until every offset below each partition's high watermark has a
 * successful call (but `deadLettered` of them, which fail every attempt).
 */
async function allHandled(
  file: string,
  watermarks: Array<{ partition: number; high: string }>,
  { timeoutMs = 60_000, deadLettered = 0 } = {},
): Promise<CallRecord[]> {
  const expected = watermarks.reduce((n, w) => n + Number(w.high), 0) - deadLettered;
  return await waitFor(async () => {
    const calls = await readCalls(file);
    const done = new Set(calls.filter((c) => !c.failed).map(at));
    return done.size >= expected ? calls : null;
  }, { what: `${expected} messages handled`, timeoutMs, intervalMs: 200 });
}

/** Waits until the group's committed offsets reach the high watermarks. */
async function committedToEnd(
  admin: { committed(g: string, t: string): Promise<Array<{ offset: string | null }>> },
  group: string,
  topic: string,
  watermarks: Array<{ partition: number; high: string }>,
): Promise<void> {
  const want = watermarks.map((w) => w.high);
  await waitFor(async () => {
    const committed = (await admin.committed(group, topic)).map((c) => c.offset);
    return JSON.stringify(committed) === JSON.stringify(want);
  }, { what: `committed offsets ${want.join(", ")}` });
}

for (const engine of ENGINES) {
  Deno.test(`daemon (${engine}): ordering key runs 3,000 messages over 300 keys 100 at a time, each key in order and alone, and commits to the end`, async () => {
    await withTopic({ partitions: 3 }, async ({ topic, admin }) => {
      await admin.produce(
        topic,
        Array.from({ length: 3000 }, (_, i) => ({ key: `k${i % 300}`, value: `v${i}` })),
      );
      const watermarks = await admin.watermarks(topic);
      const group = uniqueName("g");
      const file = await recordFile();
      const config = await writeConsumersConfig([keyedConsumer({
        group,
        topic,
        engine,
        ordering: "key",
        concurrency: 100,
        commit: { mode: "auto", intervalMs: 500 },
      }, file)]);
      const d = startDaemon(config, { env: { RECORD_FILE: file } });
      try {
        const calls = await allHandled(file, watermarks);
        await committedToEnd(admin, group, topic, watermarks);
        assert.equal(await d.stop(), 0);
        assert.equal(calls.length, 3000, "each message handled once");
        const { overlaps, outOfOrder, mostAtOnce } = keyOrder(calls);
        assert.deepEqual(overlaps, [], "no two calls of a key overlap");
        assert.deepEqual(outOfOrder, [], "a key's calls run in offset order");
        assert.equal(mostAtOnce, 1);
        const most = peak(calls);
        assert.ok(most > 50 && most <= 100, `up to 100 calls at once, found at most ${most}`);
      } finally {
        d.kill("SIGKILL");
        await d.exited();
      }
    });
  });

  Deno.test(`daemon (${engine}): ordering none runs messages of one key side by side`, async () => {
    await withTopic({ partitions: 1 }, async ({ topic, admin }) => {
      await admin.produce(
        topic,
        Array.from({ length: 400 }, (_, i) => ({ key: "same", value: `v${i}` })),
      );
      const watermarks = await admin.watermarks(topic);
      const group = uniqueName("g");
      const file = await recordFile();
      const config = await writeConsumersConfig([keyedConsumer({
        group,
        topic,
        engine,
        ordering: "none",
        concurrency: 40,
        commit: { mode: "auto", intervalMs: 500 },
      }, file)]);
      const d = startDaemon(config, { env: { RECORD_FILE: file } });
      try {
        const calls = await allHandled(file, watermarks);
        await committedToEnd(admin, group, topic, watermarks);
        assert.equal(await d.stop(), 0);
        const { mostAtOnce } = keyOrder(calls);
        assert.ok(mostAtOnce > 20 && mostAtOnce <= 40, `one key ${mostAtOnce} at once`);
      } finally {
        d.kill("SIGKILL");
        await d.exited();
      }
    });
  });
}

Deno.test("daemon: a SIGKILL while 100 calls run and a slow key holds the commit back; after the restart what the commit's metadata lists is not handled again, and nothing is lost", async () => {
  await withTopic({ partitions: 1 }, async ({ topic, admin }) => {
    // Offset 0 is slow (its key holds the committed offset at 0 for 4 s); 6,000 fast ones follow.
    await admin.produce(topic, [
      { key: "slow", value: "slow-4000" },
      ...Array.from({ length: 6000 }, (_, i) => ({ key: `k${i % 600}`, value: `v${i}` })),
    ]);
    const watermarks = await admin.watermarks(topic);
    const group = uniqueName("g");
    const first = await recordFile();
    const second = await recordFile();
    const config = (file: string) =>
      writeConsumersConfig([keyedConsumer({
        group,
        topic,
        ordering: "key",
        concurrency: 100,
        commit: { mode: "auto", intervalMs: 200 },
      }, file)]);
    const a = startDaemon(await config(first), { env: { RECORD_FILE: first } });
    let atKill: Awaited<ReturnType<typeof committedWithMetadata>>[number];
    try {
      // Mid-way: a commit listed at least 1,000 finished messages, and calls are still running.
      atKill = await waitFor(async () => {
        const [committed] = await committedWithMetadata(group, topic);
        return committed !== undefined && committed.listed.size >= 1000 ? committed : null;
      }, { what: "a commit listing 1,000 finished messages", intervalMs: 50 });
      a.kill("SIGKILL");
      await a.exited();
    } finally {
      a.kill("SIGKILL");
    }
    await evictMembers(group);
    const killed = await readCalls(first);
    atKill = (await committedWithMetadata(group, topic))[0]!; // the last commit before the kill
    assert.equal(atKill.offset, "0", "the slow message at 0 never finished: nothing passed it");
    assert.ok(killed.length < 6001, `killed mid-way, after ${killed.length} calls`);
    const finishedFirst = new Set(killed.map(at));
    for (const offset of atKill.listed) {
      assert.ok(finishedFirst.has(offset), `${offset} is listed but never finished`);
    }

    const b = startDaemon(await config(second), { env: { RECORD_FILE: second } });
    try {
      await waitFor(async () => {
        const done = new Set([...finishedFirst, ...(await readCalls(second)).map(at)]);
        return done.size === 6001;
      }, { what: "every message handled over both runs", timeoutMs: 60_000, intervalMs: 200 });
      await committedToEnd(admin, group, topic, watermarks);
      const skipped = await b.waitForLog("skipping messages finished before the last commit");
      assert.equal(skipped.messages, atKill.listed.size);
      assert.equal(await b.stop(), 0);
    } finally {
      b.kill("SIGKILL");
      await b.exited();
    }
    const again = (await readCalls(second)).map(at);
    const listedAgain = again.filter((o) => atKill.listed.has(o));
    const finishedAgain = again.filter((o) => finishedFirst.has(o));
    assert.deepEqual(listedAgain, [], "nothing the metadata lists was handled again");
    // Handled twice: what finished after the last commit before the kill (its metadata could not
    // list it), never the thousands that finished before it behind the slow message.
    console.log(
      `finished before the kill: ${finishedFirst.size}; listed in the last commit: ` +
        `${atKill.listed.size}; handled again: ${finishedAgain.length}`,
    );
  });
});

for (const engine of ENGINES) {
  Deno.test(`daemon (${engine}): a poison message with a dead-letter topic holds back only its key; other keys finish while it retries`, async () => {
    await withTopic({ partitions: 1 }, async ({ topic, admin }) => {
      const dlq = `${topic}.dlq`;
      await admin.ensureTopic(dlq, { partitions: 1 });
      try {
        await admin.produce(topic, [
          { key: "poison", value: "bad-0" },
          { key: "poison", value: "after-poison" },
          ...Array.from({ length: 1500 }, (_, i) => ({ key: `k${i % 150}`, value: `v${i}` })),
        ]);
        const watermarks = await admin.watermarks(topic);
        const group = uniqueName("g");
        const file = await recordFile();
        const config = await writeConsumersConfig([keyedConsumer({
          group,
          topic,
          engine,
          ordering: "key",
          concurrency: 50,
          // Three retries: at least 2.2 s of backoff (0.4 + 0.8 + 1.6 s, less 20 % jitter).
          retry: { attempts: 4, backoffMs: 400, maxBackoffMs: 1600 },
          deadLetterTopic: dlq,
          commit: { mode: "auto", intervalMs: 500 },
        }, file)]);
        const d = startDaemon(config, { env: { RECORD_FILE: file } });
        try {
          const calls = await allHandled(file, watermarks, { deadLettered: 1 });
          await committedToEnd(admin, group, topic, watermarks);
          assert.equal(await d.stop(), 0);
          const poison = calls.filter((c) => c.value === "bad-0");
          const after = calls.find((c) => c.value === "after-poison")!;
          const others = calls.filter((c) => c.key !== "poison");
          assert.equal(poison.length, 4, "four attempts");
          assert.equal(others.length, 1500);
          const lastAttempt = poison.at(-1)!;
          const othersDone = Math.max(...others.map((c) => c.end));
          assert.ok(
            othersDone < lastAttempt.start,
            `the other keys finished ${Math.round(lastAttempt.start - othersDone)} ms before ` +
              "the poison's last attempt",
          );
          assert.ok(after.start >= lastAttempt.end, "its key's next message waited for it");
          assert.equal(d.logged("message dead-lettered").length, 1);
          assert.deepEqual(
            (await admin.watermarks(dlq)).map((w) => w.high),
            ["1"],
            "dead-lettered once",
          );
        } finally {
          d.kill("SIGKILL");
          await d.exited();
        }
      } finally {
        await admin.deleteTopics([dlq]);
      }
    });
  });
}

Deno.test("daemon: without a dead-letter topic a poison key is paused (its partition goes on), shown in /status and /metrics, and never committed past", async () => {
  await withTopic({ partitions: 1 }, async ({ topic, admin }) => {
    await admin.produce(topic, [
      { key: "poison", value: "bad-0" },
      ...Array.from({ length: 300 }, (_, i) => ({ key: `k${i % 30}`, value: `v${i}` })),
    ]);
    const group = uniqueName("g");
    const file = await recordFile();
    const { daemon: d, url } = await startHttpDaemon([keyedConsumer({
      group,
      topic,
      ordering: "key",
      concurrency: 20,
      retry: { attempts: 2, backoffMs: 50, maxBackoffMs: 1000 },
      commit: { mode: "auto", intervalMs: 300 },
    }, file)], { env: { RECORD_FILE: file } });
    try {
      const status = await waitFor(async () => {
        const [c] = (await getStatus(url)).consumers;
        return c?.dispatch?.pausedKeys === 1 && c.processed === 300 ? c : null;
      }, { what: "a paused key and the 300 others handled" });
      assert.deepEqual(status.dispatch!.paused.map((k) => [k.partition, k.key, k.offset]), [[
        0,
        "poison",
        "0",
      ]]);
      assert.match(status.dispatch!.paused[0]!.reason, /cannot handle bad-0/);
      assert.deepEqual(status.paused, [], "no partition is paused");
      assert.equal(status.partitions[0]!.oldestUnfinished, "0");
      assert.match(await getMetrics(url), /^consumerd_paused_keys\{consumer="c"\} 1$/m);
      // It is tried again after maxBackoffMs, and fails again: never skipped.
      await d.waitForLog("handler failed after retries; key paused", {
        where: () => d.logged("handler failed after retries; key paused").length >= 2,
      });
      await waitFor(async () => {
        const [committed] = await committedWithMetadata(group, topic);
        return committed?.listed.size === 300 ? committed : null;
      }, { what: "a commit listing the 300 finished" });
      const [committed] = await committedWithMetadata(group, topic);
      assert.equal(committed!.offset, "0", "never committed past the poison message");
      assert.equal(await d.stop(), 0);
    } finally {
      d.kill("SIGKILL");
      await d.exited();
    }
  });
});

Deno.test("daemon: commit metadata is used only by the commit it was written for (another tool's commit with stale metadata is not trusted)", async () => {
  await withTopic({ partitions: 2 }, async ({ topic, admin }) => {
    await admin.produce(
      topic,
      Array.from({ length: 40 }, (_, i) => ({ value: `v${i}`, key: `k${i}`, partition: i % 2 })),
    );
    const group = uniqueName("g");
    await commitAsTool(group, topic, [
      // Written for offset 0 (offsets 1 to 19 finished), then moved to 5 by a tool that kept it.
      { partition: 0, offset: "5", metadata: encodeCommitMetadata("0", range(1, 20)).metadata },
      // Written for this very commit: 6 to 9 finished.
      { partition: 1, offset: "5", metadata: encodeCommitMetadata("5", range(6, 10)).metadata },
    ]);
    const file = await recordFile();
    const config = await writeConsumersConfig([keyedConsumer({
      group,
      topic,
      ordering: "key",
      commit: { mode: "auto", intervalMs: 300 },
    }, file)]);
    const d = startDaemon(config, { env: { RECORD_FILE: file } });
    try {
      await committedToEnd(admin, group, topic, await admin.watermarks(topic));
      assert.equal(await d.stop(), 0);
      const handled = (await readCalls(file)).map(at).sort();
      const expected = [
        ...range(5, 20).map((o) => `0:${o}`),
        ...[5, ...range(10, 20).map(Number)].map((o) => `1:${o}`),
      ].sort();
      assert.deepEqual(handled, expected);
      const stale = d.logged("commit metadata written for another offset; not used");
      assert.deepEqual(stale.map((r) => [r.partition, r.writtenFor]), [[0, "0"]]);
      const skipped = d.logged("skipping messages finished before the last commit");
      assert.deepEqual(skipped.map((r) => [r.partition, r.messages]), [[1, 4]]);
    } finally {
      d.kill("SIGKILL");
      await d.exited();
    }
  });
});

Deno.test("daemon: a stuck key fills maxBuffered; the worker then stops fetching, holds the bound, and goes on once the key moves", async () => {
  await withTopic({ partitions: 1 }, async ({ topic, admin }) => {
    // Every fourth message after the slow one is of its key: they queue behind it.
    await admin.produce(topic, [
      { key: "stuck", value: "slow-3000" },
      ...Array.from({ length: 400 }, (_, i) => ({
        key: i % 4 === 0 ? "stuck" : `k${i}`,
        value: `v${i}`,
      })),
    ]);
    const watermarks = await admin.watermarks(topic);
    const group = uniqueName("g");
    const file = await recordFile();
    const { daemon: d, url } = await startHttpDaemon([keyedConsumer({
      group,
      topic,
      ordering: "key",
      concurrency: 10,
      maxBuffered: 50,
      // Small fetches: the bound, not the fetch size, must stop the reading.
      fetch: { maxBytesPerPartition: 1024, maxBytes: 1024 },
      commit: { mode: "auto", intervalMs: 300 },
    }, file)], { env: { RECORD_FILE: file } });
    try {
      // Samples of when, buffered messages, messages handled.
      const seen: Array<{ at: number; buffered: number; handled: number }> = [];
      await waitFor(async () => {
        const [c] = (await getStatus(url)).consumers;
        const handled = new Set((await readCalls(file)).map(at)).size;
        if (c?.dispatch) seen.push({ at: Date.now(), buffered: c.dispatch.buffered, handled });
        return handled === 401;
      }, { what: "every message handled", intervalMs: 50 });
      await committedToEnd(admin, group, topic, watermarks);
      const most = Math.max(...seen.map((s) => s.buffered));
      assert.ok(most <= 50, `buffered at most 50, seen ${most}`);
      // Reading stopped at the bound: for 1.5 s the worker held 40 or more and handled nothing.
      const full = seen.filter((s) => s.buffered >= 40);
      const stalled = full.filter((s) => s.handled === full[0]?.handled);
      assert.ok(
        stalled.length > 1 && stalled.at(-1)!.at - stalled[0]!.at >= 1500,
        `held at the bound: ${JSON.stringify(seen.map((s) => [s.buffered, s.handled]))}`,
      );
      assert.equal(await d.stop(), 0);
    } finally {
      d.kill("SIGKILL");
      await d.exited();
    }
  });
});

/**
 * The joins a second daemon's arrival is tried under: each engine's classic
 * group, and KIP-848's, where the broker asks a member to release partitions
 * on its next heartbeat (seconds later): its calls are longer, so that the
 * first daemon has not finished everything by then.
 */
const JOINS = [
  ...ENGINES.map((engine) => ({ engine, groupProtocol: "classic" as const, callMs: 200 })),
  { engine: "platformatic" as const, groupProtocol: "consumer" as const, callMs: 500 },
];

/** KIP-848's join (25 s) runs with CONSUMERD_LONG_TESTS=1 (`deno task test:long`); the classic ones in the suite. */
const LONG_RUN = Deno.env.get("CONSUMERD_LONG_TESTS") === "1";

for (const { engine, groupProtocol, callMs } of JOINS) {
  Deno.test({
    name:
      `daemon (${engine}, ${groupProtocol} protocol): a second daemon joins while 100 calls run: the first drains and commits before it gives partitions up, nothing is lost or handled twice, no key overlaps`,
    ignore: groupProtocol === "consumer" && !LONG_RUN,
  }, async () => {
    await withTopic({ partitions: 3 }, async ({ topic, admin }) => {
      // 200 ms calls: 4,000 messages take the first daemon about 8 s alone (500 ms: 20 s).
      await admin.produce(
        topic,
        Array.from(
          { length: 4000 },
          (_, i) => ({ key: `k${i % 400}`, value: `slow-${callMs}-${i}` }),
        ),
      );
      const watermarks = await admin.watermarks(topic);
      const group = uniqueName("g");
      const [first, second] = [await recordFile(), await recordFile()];
      const config = (file: string) =>
        writeConsumersConfig([keyedConsumer({
          group,
          topic,
          engine,
          groupProtocol,
          ordering: "key",
          concurrency: 100,
          // Slower than the calls: the first daemon holds plenty of finished, uncommitted work.
          commit: { mode: "auto", intervalMs: 5000 },
        }, file)]);
      const a = startDaemon(await config(first), { env: { RECORD_FILE: first } });
      let b: ReturnType<typeof startDaemon> | null = null;
      try {
        // The consumer protocol hands partitions out one by one: wait until each has calls (the
        // one released then has work in hand). Under the classic one every partition is revoked.
        const partitionsBegun = groupProtocol === "consumer" ? 3 : 1;
        await waitFor(async () => {
          const calls = await readCalls(first);
          return calls.length >= 100 &&
            new Set(calls.map((c) => c.partition)).size >= partitionsBegun;
        }, { what: "100 calls on the first daemon", intervalMs: 50 });
        b = startDaemon(await config(second), { env: { RECORD_FILE: second } });
        await waitFor(async () => {
          const done = new Set([...await readCalls(first), ...await readCalls(second)].map(at));
          return done.size === 4000;
        }, { what: "every message handled", intervalMs: 200, timeoutMs: 60_000 });
        await committedToEnd(admin, group, topic, watermarks);
        assert.equal(await b.stop(), 0);
        assert.equal(await a.stop(), 0);
        const calls = [...await readCalls(first), ...await readCalls(second)];
        const { overlaps, outOfOrder } = keyOrder(calls);
        assert.deepEqual(overlaps, [], "no key ran on both daemons at once");
        assert.deepEqual(outOfOrder, []);
        assert.equal(calls.length, 4000, "no message handled twice");
        const moved = (await readCalls(second)).length;
        assert.ok(moved > 0 && moved < 4000, `the second daemon took over ${moved} of them`);
      } finally {
        a.kill("SIGKILL");
        b?.kill("SIGKILL");
        await a.exited();
        await b?.exited();
      }
    });
  });
}

function range(from: number, to: number): string[] {
  return Array.from({ length: to - from }, (_, i) => String(from + i));
}

Deno.test("daemon: ctx.commit() from 50 calls at once races the interval commit: the committed offset never moves back and ends at the high watermark", async () => {
  await withTopic({ partitions: 1 }, async ({ topic, admin }) => {
    await admin.produce(
      topic,
      Array.from({ length: 1500 }, (_, i) => ({ key: `k${i % 150}`, value: `commit-${i}` })),
    );
    const watermarks = await admin.watermarks(topic);
    const group = uniqueName("g");
    const file = await recordFile();
    const config = await writeConsumersConfig([keyedConsumer({
      group,
      topic,
      ordering: "key",
      concurrency: 50,
      commit: { mode: "auto", intervalMs: 50 },
    }, file)]);
    const d = startDaemon(config, { env: { RECORD_FILE: file } });
    const seen: bigint[] = [];
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        const [c] = await committedWithMetadata(group, topic);
        if (c !== undefined && BigInt(c.offset) >= 0n) seen.push(BigInt(c.offset));
        await new Promise((r) => setTimeout(r, 10));
      }
    })();
    try {
      await allHandled(file, watermarks);
      await committedToEnd(admin, group, topic, watermarks);
      sampling = false;
      await sampler;
      assert.equal(await d.stop(), 0);
      const back = seen.filter((offset, i) => i > 0 && offset < seen[i - 1]!);
      assert.deepEqual(back, [], `never back: ${seen.join(",")}`);
      assert.ok(seen.length > 10, `${seen.length} samples`);
      assert.deepEqual(d.logged("commit on the interval failed; committing again later"), []);
      const [last] = await committedWithMetadata(group, topic);
      assert.equal(last!.metadata, null, "nothing left beyond the end");
    } finally {
      sampling = false;
      d.kill("SIGKILL");
      await d.exited();
    }
  });
});

for (const mode of ["balanced", "simple"] as const) {
  Deno.test(`daemon (${mode}): SIGTERM while 100 calls run: they finish, what finished is committed, and the restart handles nothing twice`, async () => {
    await withTopic({ partitions: 2 }, async ({ topic, admin }) => {
      // A slow key at the head of each partition holds its committed offset back for 2 s.
      await admin.produce(topic, [
        { key: "slow-a", value: "slow-2000", partition: 0 },
        { key: "slow-b", value: "slow-2000", partition: 1 },
        ...Array.from({ length: 6000 }, (_, i) => ({
          key: `k${i % 600}`,
          value: `slow-100-${i}`,
          partition: i % 2,
        })),
      ]);
      const watermarks = await admin.watermarks(topic);
      const group = uniqueName("g");
      const [first, second] = [await recordFile(), await recordFile()];
      const config = (file: string) =>
        writeConsumersConfig([keyedConsumer({
          group,
          topic,
          mode,
          ordering: "key",
          concurrency: 100,
          commit: { mode: "auto", intervalMs: 60_000 }, // only the stop commits
        }, file)]);
      const a = startDaemon(await config(first), { env: { RECORD_FILE: first } });
      try {
        await waitFor(async () => (await readCalls(first)).length >= 500, {
          what: "500 calls",
          intervalMs: 50,
        });
        assert.equal(await a.stop(), 0, "drained within the grace period");
      } finally {
        a.kill("SIGKILL");
        await a.exited();
      }
      const handledFirst = new Set((await readCalls(first)).map(at));
      const committed = await committedWithMetadata(group, topic);
      const listed = new Set(committed.flatMap((c) => [...c.listed]));
      for (const c of committed) {
        const next = `${c.partition}:${c.offset}`;
        assert.ok(!handledFirst.has(next), `committed ${next} was handled: nothing passed`);
      }
      const b = startDaemon(await config(second), { env: { RECORD_FILE: second } });
      try {
        await waitFor(async () => {
          const done = new Set([...handledFirst, ...(await readCalls(second)).map(at)]);
          return done.size === 6002;
        }, { what: "every message handled over both runs", timeoutMs: 60_000, intervalMs: 200 });
        assert.equal(await b.stop(), 0);
        await committedToEnd(admin, group, topic, watermarks);
      } finally {
        b.kill("SIGKILL");
        await b.exited();
      }
      const twice = (await readCalls(second)).map(at).filter((o) => handledFirst.has(o));
      assert.deepEqual(twice, [], "a clean stop leaves nothing to handle twice");
      assert.equal(listed.size, 0, "the calls running finished: nothing beyond the commit");
    });
  });
}

Deno.test("daemon: metadata too large to list every finished offset keeps the longest prefix that fits; after a SIGKILL the rest is handled again and nothing is lost", async () => {
  await withTopic({ partitions: 1 }, async ({ topic, admin }) => {
    // Every other message is of one slow key: the commit point stays at 0 while 20,000 finished
    // offsets, none next to another, pile up beyond it (more than 4,000 characters can list).
    await admin.produce(topic, [
      { key: "stuck", value: "slow-60000" },
      ...Array.from({ length: 40_000 }, (_, i) => ({
        key: i % 2 === 0 ? "stuck" : `k${i % 500}`,
        value: i % 2 === 0 ? `stuck-${i}` : `fast-${i}`,
      })),
    ]);
    const group = uniqueName("g");
    const [first, second] = [await recordFile(), await recordFile()];
    const consumer = (file: string) =>
      keyedConsumer({
        group,
        topic,
        ordering: "key",
        concurrency: 200,
        maxBuffered: 45_000,
        commit: { mode: "auto", intervalMs: 300 },
      }, file);
    const { daemon: a, url } = await startHttpDaemon([consumer(first)], {
      env: { RECORD_FILE: first },
    });
    let atKill: Awaited<ReturnType<typeof committedWithMetadata>>[number];
    try {
      await waitFor(async () => (await readCalls(first)).length >= 20_000, {
        what: "the 20,000 fast messages",
        timeoutMs: 60_000,
        intervalMs: 200,
      });
      const dropped = await waitFor(async () => {
        const found = samples(await getMetrics(url), "consumerd_commit_metadata_dropped_total");
        return Number(found[0]?.value ?? 0) > 0 ? found[0]!.value : null;
      }, { what: "a commit whose metadata could not list everything" });
      atKill = (await committedWithMetadata(group, topic))[0]!;
      assert.ok(atKill.metadata!.length <= 4000, `${atKill.metadata!.length} characters`);
      assert.equal(atKill.offset, "0");
      assert.ok(atKill.listed.size > 1000 && atKill.listed.size < 20_000, `${atKill.listed.size}`);
      console.log(`listed ${atKill.listed.size} of 20,000; dropped ${dropped} (cumulative)`);
      a.kill("SIGKILL");
      await a.exited();
    } finally {
      a.kill("SIGKILL");
    }
    await evictMembers(group);
    const finishedFirst = new Set((await readCalls(first)).map(at));
    // The restart skips what the metadata lists and handles every other fast message (again, or
    // for the first time); the slow one holds its key for 60 s, so the test stops there.
    const b = startDaemon(await writeConsumersConfig([consumer(second)]), {
      env: { RECORD_FILE: second },
    });
    const fast = Array.from({ length: 20_000 }, (_, i) => `0:${2 * i + 2}`);
    const unlisted = fast.filter((o) => !atKill.listed.has(o));
    try {
      await waitFor(async () => {
        const done = new Set((await readCalls(second)).map(at));
        return unlisted.every((o) => done.has(o));
      }, { what: "every fast message not listed", timeoutMs: 90_000, intervalMs: 500 });
    } finally {
      b.kill("SIGKILL");
      await b.exited();
    }
    const again = (await readCalls(second)).map(at);
    assert.deepEqual(again.filter((o) => atKill.listed.has(o)), [], "the listed prefix is skipped");
    assert.equal(new Set(again).size, unlisted.length, "only the rest is handled");
    assert.ok(unlisted.some((o) => finishedFirst.has(o)), "some of it finished before the kill");
  });
});

Deno.test("daemon: SIGTERM while a slow key outlasts the grace period: what finished is committed with its metadata before the deadline; the restart handles only what did not finish", async () => {
  await withTopic({ partitions: 1 }, async ({ topic, admin }) => {
    await admin.produce(topic, [
      { key: "stuck", value: "slow-60000" },
      ...Array.from({ length: 3000 }, (_, i) => ({ key: `k${i % 300}`, value: `slow-50-${i}` })),
    ]);
    const group = uniqueName("g");
    const [first, second] = [await recordFile(), await recordFile()];
    const config = (file: string) =>
      writeConfig({
        kafka: { brokers: BROKERS },
        http: { listen: false },
        shutdown: { gracePeriodMs: 3000 },
        consumers: [keyedConsumer({
          group,
          topic,
          ordering: "key",
          concurrency: 100,
          commit: { mode: "auto", intervalMs: 60_000 }, // only the stop commits
        }, file)],
      });
    const a = startDaemon(await config(first), { env: { RECORD_FILE: first } });
    try {
      await waitFor(async () => (await readCalls(first)).length >= 500, {
        what: "500 calls",
        intervalMs: 50,
      });
      assert.notEqual(await a.stop(), 0, "the slow call outlasted the grace period");
    } finally {
      a.kill("SIGKILL");
      await a.exited();
    }
    await evictMembers(group);
    const handledFirst = new Set((await readCalls(first)).map(at));
    const [committed] = await committedWithMetadata(group, topic);
    assert.equal(committed!.offset, "0", "the slow message never finished");
    assert.ok(committed!.listed.size >= 500, `listed ${committed!.listed.size}`);
    const b = startDaemon(await config(second), { env: { RECORD_FILE: second } });
    try {
      await waitFor(async () => {
        const done = new Set([...handledFirst, ...(await readCalls(second)).map(at)]);
        return [...Array(3000).keys()].every((i) => done.has(`0:${i + 1}`));
      }, { what: "every fast message over both runs", timeoutMs: 60_000, intervalMs: 200 });
    } finally {
      b.kill("SIGKILL");
      await b.exited();
    }
    const again = (await readCalls(second)).map(at);
    assert.deepEqual(again.filter((o) => committed!.listed.has(o)), [], "listed: not again");
    const twice = again.filter((o) => handledFirst.has(o));
    assert.deepEqual(twice, [], "what finished before the deadline was all listed");
  });
});

for (const engine of ENGINES) {
  Deno.test(`daemon (${engine}): a rebalance while the buffer is full behind stuck keys: the first daemon gives its partitions up (no hang), nothing is lost, no key overlaps`, async () => {
    await withTopic({ partitions: 2 }, async ({ topic, admin }) => {
      // Each partition: a 3 s message, then every third message of its key queued behind it.
      await admin.produce(topic, [
        ...[0, 1].map((partition) => ({
          key: `stuck-${partition}`,
          value: "slow-3000",
          partition,
        })),
        ...Array.from({ length: 1200 }, (_, i) => ({
          key: i % 3 === 0 ? `stuck-${i % 2}` : `k${i}`,
          value: `v${i}`,
          partition: i % 2,
        })),
      ]);
      const watermarks = await admin.watermarks(topic);
      const group = uniqueName("g");
      const [first, second] = [await recordFile(), await recordFile()];
      const config = (file: string) =>
        writeConsumersConfig([keyedConsumer({
          group,
          topic,
          engine,
          ordering: "key",
          concurrency: 10,
          maxBuffered: 30,
          fetch: { maxBytesPerPartition: 1024, maxBytes: 2048 },
          commit: { mode: "auto", intervalMs: 500 },
        }, file)]);
      const a = startDaemon(await config(first), { env: { RECORD_FILE: first } });
      let b: ReturnType<typeof startDaemon> | null = null;
      try {
        // The first daemon is full (30 buffered, the stuck keys' messages waiting) when b joins.
        await waitFor(async () => (await readCalls(first)).length >= 20, {
          what: "20 calls on the first daemon",
          intervalMs: 50,
        });
        b = startDaemon(await config(second), { env: { RECORD_FILE: second } });
        await waitFor(async () => {
          const done = new Set([...await readCalls(first), ...await readCalls(second)].map(at));
          return done.size === 1202;
        }, { what: "every message handled", intervalMs: 200, timeoutMs: 60_000 });
        await committedToEnd(admin, group, topic, watermarks);
        assert.equal(await b.stop(), 0);
        assert.equal(await a.stop(), 0);
        const calls = [...await readCalls(first), ...await readCalls(second)];
        const { overlaps, outOfOrder } = keyOrder(calls);
        assert.deepEqual(overlaps, []);
        assert.deepEqual(outOfOrder, []);
        assert.equal(calls.length, 1202, "nothing handled twice");
        assert.ok((await readCalls(second)).length > 0, "the second daemon took some over");
      } finally {
        a.kill("SIGKILL");
        b?.kill("SIGKILL");
        await a.exited();
        await b?.exited();
      }
    });
  });
}

Deno.test("daemon on Bun (kafkajs): ordering key keeps each key's calls apart and in order", async () => {
  await withTopic({ partitions: 3 }, async ({ topic, admin }) => {
    await admin.produce(
      topic,
      Array.from({ length: 1500 }, (_, i) => ({ key: `k${i % 150}`, value: `v${i}` })),
    );
    const watermarks = await admin.watermarks(topic);
    const group = uniqueName("g");
    const file = await recordFile();
    const config = await writeConsumersConfig([keyedConsumer({
      group,
      topic,
      ordering: "key",
      concurrency: 50,
      commit: { mode: "auto", intervalMs: 500 },
    }, file)]);
    const d = startDaemon(config, { env: { RECORD_FILE: file }, runtime: "bun" });
    try {
      const calls = await allHandled(file, watermarks);
      await committedToEnd(admin, group, topic, watermarks);
      assert.equal(await d.stop(), 0);
      assert.equal(calls.length, 1500);
      const { overlaps, outOfOrder } = keyOrder(calls);
      assert.deepEqual([overlaps, outOfOrder], [[], []]);
      assert.ok(peak(calls) > 25, `up to 50 at once, found ${peak(calls)}`);
    } finally {
      d.kill("SIGKILL");
      await d.exited();
    }
  });
});

Deno.test("daemon: SIGTERM while a key outlasts the grace period: a call that succeeds after the stop's early commit, shortly before the deadline, is committed too", async () => {
  await withTopic({ partitions: 1 }, async ({ topic, admin }) => {
    await admin.produce(topic, [
      { key: "stuck", value: "slow-60000" },
      { key: "mid", value: "slow-4500" },
      ...Array.from({ length: 20 }, (_, i) => ({ key: `k${i}`, value: `fast-${i}` })),
    ]);
    const group = uniqueName("g");
    const first = await recordFile();
    // The stuck key runs past the grace period; the mid call ends about 4.5 s after SIGTERM,
    // after the commit made 1 s before the deadline.
    const config = (file: string) =>
      writeConfig({
        kafka: { brokers: BROKERS },
        http: { listen: false },
        shutdown: { gracePeriodMs: 5000 },
        consumers: [keyedConsumer({
          group,
          topic,
          ordering: "key",
          concurrency: 100,
          commit: { mode: "auto", intervalMs: 60_000 }, // only the stop commits
        }, file)],
      });
    const a = startDaemon(await config(first), { env: { RECORD_FILE: first } });
    let sigterm = 0;
    try {
      await waitFor(async () => (await readCalls(first)).length >= 20, {
        what: "the fast calls",
        intervalMs: 20,
      });
      sigterm = performance.timeOrigin + performance.now();
      assert.notEqual(await a.stop(), 0, "the stuck call outlasted the grace period");
    } finally {
      a.kill("SIGKILL");
      await a.exited();
    }
    await evictMembers(group);
    const firstCalls = await readCalls(first);
    const mid = firstCalls.find((c) => c.offset === "1");
    assert.ok(mid !== undefined && !mid.failed, "the 4.5 s call succeeded within the grace period");
    assert.ok(mid.end - sigterm < 4600, "it ended before the stop's last commit");
    const [committed] = await committedWithMetadata(group, topic);
    assert.ok(
      committed!.listed.has("0:1"),
      "offset 1 succeeded before the deadline but is neither committed nor listed: the restart handles it again",
    );
  });
});

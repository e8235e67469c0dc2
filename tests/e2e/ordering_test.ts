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
import { startDaemon, writeConsumersConfig } from "../harness/daemon.ts";
import { ENGINES, uniqueName, waitFor, withTopic } from "../harness/kafka.ts";
import {
  at,
  type CallRecord,
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

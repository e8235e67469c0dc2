/**
 * Handler retries over a long run (CONSUMERD_LONG_TESTS=1, about ten
 * minutes): 300,000 messages whose first attempt fails, each retried once
 * after a `sleep()` on the worker-wide abort signal. The retry rate and the
 * process's resident memory stay flat between 100k and 300k messages (each
 * retry's abort listener left on that signal used to make both grow). The
 * short version is tests/unit/worker/sleep_test.ts.
 *
 * @module
 */
import assert from "node:assert/strict";
import { fixtureHandler } from "../harness/daemon.ts";
import { uniqueName, waitFor, withTopic } from "../harness/kafka.ts";
import { startLocalWorker } from "../harness/worker_loop.ts";

const LONG_RUN = Deno.env.get("CONSUMERD_LONG_TESTS") === "1";
const MESSAGES = Number(Deno.env.get("RETRY_SOAK_MESSAGES") ?? 300_000);
const MARKS = [1, 2, 3].map((i) => Math.round((MESSAGES * i) / 3));

Deno.test({
  name:
    `worker loop: ${MESSAGES} messages each failing their first attempt: retry rate and RSS flat from a third of the way on`,
  ignore: !LONG_RUN,
  fn: async () => {
    await withTopic({ partitions: 1 }, async ({ topic, admin }) => {
      for (let sent = 0; sent < MESSAGES; sent += 10_000) {
        const n = Math.min(10_000, MESSAGES - sent);
        await admin.produce(
          topic,
          Array.from({ length: n }, (_, i) => ({ value: `m-${sent + i}`, partition: 0 })),
        );
      }
      // 300,000 "handler failed; retrying" lines would swamp the test's output.
      const write = console.error;
      console.error = () => {};
      const samples: Array<{ at: number; processed: number; retries: number; rss: number }> = [];
      const worker = await startLocalWorker({
        group: uniqueName("g"),
        topic,
        handler: fixtureHandler("fail_first.ts"),
        retry: { attempts: 2, backoffMs: 0, maxBackoffMs: 0 },
      }, {
        onPost: (message) => {
          if (message.type !== "stats") return;
          const { processed, retries } = message.stats;
          samples.push({ at: performance.now(), processed, retries, rss: Deno.memoryUsage().rss });
        },
      });
      try {
        await waitFor(() => (samples.at(-1)?.processed ?? 0) >= MESSAGES, {
          timeoutMs: 60 * 60_000,
          intervalMs: 1000,
          what: `${MESSAGES} processed messages`,
        });
      } finally {
        await worker.stop();
        console.error = write;
      }
      const at = MARKS.map((mark) => samples.find((s) => s.processed >= mark)!);
      const rates = [0, 1].map((i) =>
        (at[i + 1]!.retries - at[i]!.retries) / ((at[i + 1]!.at - at[i]!.at) / 1000)
      );
      const mib = at.map((s) => Math.round(s.rss / 2 ** 20));
      console.log(JSON.stringify({ marks: MARKS, retriesPerSecond: rates, rssMiB: mib }));
      assert.equal(at[2]!.retries, at[2]!.processed, "one retry per message");
      assert.ok(rates[1]! >= 0.8 * rates[0]!, `retry rate fell: ${rates.join(" → ")} per s`);
      assert.ok(mib[2]! - mib[0]! < 48, `RSS grew: ${mib.join(" → ")} MiB`);
    });
  },
});

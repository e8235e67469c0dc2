// `offsets`, `reset-offsets` and `status` as an operator runs them, checked
// against Kafka's own consumer-groups tool, before and after each reset.
import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { OffsetsReport } from "../../src/cli/offsets.ts";
import { fixtureHandler } from "../harness/daemon.ts";
import { getJson, startHttpDaemon } from "../harness/http.ts";
import {
  BROKERS,
  committedByKafkaTool,
  describeGroup,
  produceNumbered,
  uniqueName,
  waitFor,
  withTopic,
} from "../harness/kafka.ts";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

/** Runs `src/main.ts <args>` and returns its exit code and output. */
async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", join(ROOT, "src", "main.ts"), ...args],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
  }).output();
  return {
    code: out.code,
    stdout: new TextDecoder().decode(out.stdout),
    stderr: new TextDecoder().decode(out.stderr),
  };
}

/** A daemon consuming `topic` as `orders` with `group`, committing every 200 ms. */
function startOrders(group: string, topic: string, extra: Record<string, unknown> = {}) {
  return startHttpDaemon([{
    name: "orders",
    group,
    topic,
    handler: fixtureHandler("quiet.ts"),
    commit: { mode: "auto", intervalMs: 200 },
    ...extra,
  }]);
}

Deno.test("offsets and reset-offsets agree with Kafka's consumer-groups tool, to earliest, latest, an offset and an ISO time", async () => {
  await withTopic({ partitions: 3 }, async ({ topic, admin }) => {
    const group = uniqueName("g");
    const brokers = ["--brokers", BROKERS.join(",")];
    const where = ["--group", group, "--topic", topic, ...brokers];
    await produceNumbered(admin, topic, { count: 30, partitions: 3, prefix: "before" });
    await new Promise((r) => setTimeout(r, 1500));
    const between = new Date().toISOString();
    await new Promise((r) => setTimeout(r, 1500));
    await produceNumbered(admin, topic, { count: 30, partitions: 3, prefix: "after" });
    await admin.watermarks(topic); // loads the topic's metadata into the admin client
    await admin.deleteRecords(topic, [{ partition: 0, offset: "3" }]);
    await admin.setOffsets(group, topic, [
      { partition: 0, offset: "5" },
      { partition: 1, offset: "7" },
      { partition: 2, offset: "9" },
    ]);

    // offsets: committed, log start, high watermark, lag, as Kafka's tool sees them.
    const compare = async () => {
      const run = await cli("offsets", ...where, "--json");
      assert.equal(run.code, 0, run.stderr);
      const ours = (JSON.parse(run.stdout) as OffsetsReport).partitions;
      const theirs = (await describeGroup(group, "--offsets")).filter((r) => r.TOPIC === topic);
      assert.equal(ours.length, 3);
      for (const p of ours) {
        const row = theirs.find((r) => Number(r.PARTITION) === p.partition)!;
        assert.equal(p.committed, row["CURRENT-OFFSET"], `committed ${p.partition}`);
        assert.equal(p.highWatermark, row["LOG-END-OFFSET"], `high watermark ${p.partition}`);
        assert.equal(p.lag, row.LAG, `lag ${p.partition}`);
      }
      return ours;
    };
    const first = await compare();
    assert.deepEqual(first.map((p) => p.logStart), ["3", "0", "0"]);
    assert.deepEqual(first.map((p) => p.committed), ["5", "7", "9"]);
    const table = await cli("offsets", ...where);
    assert.match(table.stdout, /PARTITION\s+COMMITTED\s+LOG-START\s+HIGH-WATERMARK\s+LAG/);

    const reset = async (...args: string[]) => {
      // No daemon and nothing else commits here: no need to watch the offsets.
      const run = await cli("reset-offsets", ...where, "--watch-ms", "0", ...args);
      assert.equal(run.code, 0, run.stderr);
      return run.stdout;
    };
    // Kafka's own tool (a JVM start each: used at the key points), and the admin API in between.
    const tool = async () =>
      [...(await committedByKafkaTool(group, topic))].sort((a, b) => a[0] - b[0]).map(([, o]) => o);
    const committed = async () => (await admin.committed(group, topic)).map((c) => c.offset);

    // A dry run prints from → to and changes nothing.
    const dry = await reset("--to", "earliest", "--dry-run");
    assert.match(dry, /^0\s+5\s+3\b/m, "partition 0: from 5 to its log start 3");
    assert.match(dry, /dry run: nothing changed/);
    assert.deepEqual(await committed(), ["5", "7", "9"]);

    await reset("--to", "earliest", "--partitions", "0,2");
    assert.deepEqual(await tool(), ["3", "7", "0"], "earliest on partitions 0 and 2 only");

    await reset("--to", "latest");
    assert.deepEqual(await committed(), ["20", "20", "20"]);

    const clamped = await reset("--to", "2");
    assert.match(clamped, /before the log start/);
    assert.deepEqual(await committed(), ["3", "2", "2"], "an offset, clamped into the log");

    await reset("--to", between);
    const afterTime = await compare();
    assert.deepEqual(
      afterTime.map((p) => p.committed),
      ["10", "10", "10"],
      "the first message after the time",
    );

    const bad = await cli("reset-offsets", ...where, "--to", "yesterday");
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--to must be earliest, latest, an offset or an ISO time/);
  });
});

Deno.test("reset-offsets refuses while a daemon holds the group; status prints the daemon's table", async () => {
  await withTopic({ partitions: 2 }, async ({ topic, admin }) => {
    const group = uniqueName("g");
    await produceNumbered(admin, topic, { count: 20, partitions: 2 });
    const { daemon, url } = await startOrders(group, topic);
    try {
      await waitFor(async () => (await getJson(url, "readyz")).status === 200, {
        timeoutMs: 60_000,
        what: "the daemon to hold the group",
      });
      await waitFor(async () => {
        const c = await committedByKafkaTool(group, topic);
        return c.get(0) === "10" && c.get(1) === "10";
      }, { timeoutMs: 30_000, what: "everything committed" });
      const run = await cli(
        "reset-offsets",
        "--group",
        group,
        "--topic",
        topic,
        "--to",
        "earliest",
        "--brokers",
        BROKERS.join(","),
      );
      assert.equal(run.code, 1);
      assert.match(run.stderr, new RegExp(`refusing to reset: group ${group} has 1 active member`));
      const after = await committedByKafkaTool(group, topic);
      assert.deepEqual([after.get(0), after.get(1)], ["10", "10"], "nothing changed");

      const status = await cli("status", "--url", url);
      assert.equal(status.code, 0, status.stderr);
      assert.match(status.stdout, /^orders\s+running\s+all\s+20\s+20\s+0\s+0/m);
      const json = await cli("status", "--url", url, "--json");
      assert.equal(JSON.parse(json.stdout).consumers[0].name, "orders");
    } finally {
      await daemon.stop();
    }
    // Once the daemon left, the reset goes through.
    const run = await cli(
      "reset-offsets",
      "--group",
      group,
      "--topic",
      topic,
      "--to",
      "earliest",
      "--brokers",
      BROKERS.join(","),
      "--watch-ms",
      "1000",
    );
    assert.equal(run.code, 0, run.stderr);
    const reset = await committedByKafkaTool(group, topic);
    assert.deepEqual([reset.get(0), reset.get(1)], ["0", "0"]);
  });
});

Deno.test("reset-offsets refuses while a simple-mode consumer commits to the group (asked or watched), and goes through once its daemon stopped", async () => {
  await withTopic({ partitions: 2 }, async ({ topic, admin }) => {
    const group = uniqueName("g");
    await produceNumbered(admin, topic, { count: 20, partitions: 2 });
    const { daemon, url } = await startOrders(group, topic, { mode: "simple" });
    const reset = (...args: string[]) =>
      cli(
        "reset-offsets",
        ...["--group", group, "--topic", topic, "--to", "earliest"],
        ...["--brokers", BROKERS.join(","), ...args],
      );
    const committed = async () => (await admin.committed(group, topic)).map((c) => c.offset);
    const caughtUp = async () => {
      const marks = await admin.watermarks(topic);
      const now = await committed();
      return marks.every((w, i) => now[i] === w.high) ? now : null;
    };
    try {
      await waitFor(async () => (await getJson(url, "readyz")).status === 200, {
        timeoutMs: 60_000,
        what: "the simple-mode consumer to hold its partitions",
      });
      await waitFor(caughtUp, { timeoutMs: 30_000, what: "everything committed" });
      assert.equal((await admin.groupState(group)).members, 0, "Kafka sees no member");

      // Asked, the daemon names its consumer.
      const asked = await reset("--url", url, "--watch-ms", "0");
      assert.equal(asked.code, 1, asked.stdout);
      assert.match(
        asked.stderr,
        new RegExp(
          `refusing to reset: the daemon at ${url} runs consumer \`orders\` \\(simple mode, ` +
            `running\\) on group ${group}, topic ${topic}; stop it first`,
        ),
      );
      assert.match(asked.stderr, /or pass --force to reset anyway/);
      assert.deepEqual(await committed(), ["10", "10"], "nothing changed");

      // Not asked: its commits move the offsets while messages flow.
      let feeding = true;
      const feeder = (async () => {
        for (let i = 0; feeding; i++) {
          await admin.produce(topic, [{ value: `more-${i}`, partition: i % 2 }]);
          await new Promise((r) => setTimeout(r, 100));
        }
      })();
      const watched = await reset("--watch-ms", "2000").finally(async () => {
        feeding = false;
        await feeder;
      });
      assert.equal(watched.code, 1, watched.stdout);
      assert.match(watched.stdout, /watching the committed offsets for 2 s/);
      assert.match(
        watched.stderr,
        new RegExp(
          `refusing to reset: group ${group}'s committed offsets on ${topic} moved while they ` +
            "were watched for 2 s \\(partition \\d: \\d+ → \\d+",
        ),
      );
      assert.match(watched.stderr, /a simple-mode consumer\) is running; stop it first/);
      assert.ok((await committed()).every((o) => Number(o) >= 10), "never reset");

      // --force resets, and the consumer's next commit puts its own position back:
      // what the refusals prevent.
      const position = await waitFor(caughtUp, { timeoutMs: 30_000, what: "caught up again" });
      const forced = await reset("--force");
      assert.equal(forced.code, 0, forced.stderr);
      assert.doesNotMatch(forced.stdout, /watching/, "--force does not watch");
      assert.deepEqual(await committed(), ["0", "0"]);
      await admin.produce(topic, [{ value: "last", partition: 0 }]);
      await waitFor(async () => (await committed())[0] === String(Number(position[0]) + 1), {
        timeoutMs: 30_000,
        what: "the consumer's commit over the reset",
      });
    } finally {
      assert.equal(await daemon.stop(), 0);
    }
    // Once the daemon stopped, nothing answers at its address and nothing moves.
    const after = await reset("--url", url, "--watch-ms", "1000");
    assert.equal(after.code, 0, after.stderr);
    assert.match(after.stdout, new RegExp(`no daemon answers at ${url}`));
    assert.deepEqual(await committed(), ["0", "0"]);
  });
});

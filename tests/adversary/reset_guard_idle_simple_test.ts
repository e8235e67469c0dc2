/**
 * Adversary (issue 20, the reset-offsets guard): without a daemon to ask
 * (`--brokers` given, so the config's http.listen is not read; or the
 * daemon runs on another host), the only sign of a simple-mode consumer is
 * its committed offsets moving during --watch-ms. A simple-mode consumer
 * that is caught up on an idle topic (or whose partition is paused on a
 * failing message: the usual reason to reset) commits nothing, so the guard
 * lets the reset through, and the consumer's next commit puts its own
 * position back: the reset is lost, as issue 20 item 9 describes.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { fixtureHandler } from "../harness/daemon.ts";
import { getJson, startHttpDaemon } from "../harness/http.ts";
import { BROKERS, produceNumbered, uniqueName, waitFor, withTopic } from "../harness/kafka.ts";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

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

Deno.test("adversary: reset-offsets refuses while an idle simple-mode consumer would commit over the reset (no daemon asked)", async () => {
  await withTopic({ partitions: 2 }, async ({ topic, admin }) => {
    const group = uniqueName("g");
    await produceNumbered(admin, topic, { count: 20, partitions: 2 });
    const { daemon, url } = await startHttpDaemon([{
      name: "orders",
      group,
      topic,
      mode: "simple",
      handler: fixtureHandler("quiet.ts"),
      commit: { mode: "auto", intervalMs: 200 },
    }]);
    const committed = async () => (await admin.committed(group, topic)).map((c) => c.offset);
    try {
      await waitFor(async () => (await getJson(url, "readyz")).status === 200, {
        timeoutMs: 60_000,
        what: "the simple-mode consumer to hold its partitions",
      });
      await waitFor(async () => (await committed()).every((o) => o === "10"), {
        timeoutMs: 30_000,
        what: "everything committed",
      });
      // The topic is idle: nothing is produced while the guard watches.
      const run = await cli(
        "reset-offsets",
        ...["--group", group, "--topic", topic, "--to", "earliest"],
        ...["--brokers", BROKERS.join(","), "--watch-ms", "2000"],
      );
      if (run.code === 0) {
        // What the guard let through: the consumer's next commit undoes the reset.
        await admin.produce(topic, [{ value: "next", partition: 0 }]);
        await waitFor(async () => (await committed())[0] === "11", {
          timeoutMs: 30_000,
          what: "the consumer's commit over the reset",
        });
      }
      assert.equal(
        run.code,
        1,
        `the reset went through while the simple-mode consumer runs; its next commit put ` +
          `partition 0 back to 11 (committed now ${await committed()})\n${run.stdout}`,
      );
    } finally {
      await daemon.stop();
    }
  });
});

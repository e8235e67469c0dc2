/**
 * A reload that changes `kafka:` alone reconnects consumers and resumes from
 * their committed offsets; it is not a new start, so `resetOffsetOnStart`
 * resets nothing (rotating a SASL password must not replay a topic). A
 * consumer whose effective definition changed in the same reload (here
 * through `defaults:`) starts anew. The daemon runs as a process against the
 * real broker.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { stringify } from "yaml";
import { saveInPlace } from "../harness/config_files.ts";
import { type DaemonProcess, startDaemon } from "../harness/daemon.ts";
import { BROKERS, produceNumbered, uniqueName, waitFor, withTopic } from "../harness/kafka.ts";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const HANDLER = `export default function handle(message, ctx) {
  ctx.log.info("handled", { partition: message.partition, offset: message.offset, value: message.text() });
}
`;

const valuesOf = (daemon: DaemonProcess, consumer: string): string[] =>
  daemon.logged("handled").filter((r) => r.consumer === consumer).map((r) => String(r.value));

Deno.test("a kafka:-only reload reconnects a resetOffsetOnStart consumer from its committed offsets (nothing replayed); a defaults: change to another is a new start", async () => {
  await withTopic({ partitions: 2, prefix: "reconnect" }, async ({ topic, admin }) => {
    const dir = await Deno.makeTempDir({ prefix: "consumerd-reconnect-" });
    await Deno.writeTextFile(join(dir, "h.ts"), HANDLER);
    const groups = { a: uniqueName("reconnect-a"), b: uniqueName("reconnect-b") };
    const text = (clientId: string, intervalMs: number) =>
      stringify({
        kafka: { brokers: BROKERS, clientId },
        http: { listen: false },
        reload: { debounceMs: 200 },
        // b takes its commit settings from here; a sets its own.
        defaults: { commit: { mode: "auto", intervalMs } },
        consumers: [
          {
            name: "a",
            group: groups.a,
            topic,
            handler: "./h.ts",
            resetOffsetOnStart: true,
            commit: { mode: "auto", intervalMs: 300 },
          },
          { name: "b", group: groups.b, topic, handler: "./h.ts", resetOffsetOnStart: true },
        ],
      });
    const path = join(dir, "consumers.yaml");
    await saveInPlace(path, text("consumerd", 300));
    await produceNumbered(admin, topic, { count: 20, partitions: 2, prefix: "first" });
    const daemon = startDaemon(path);
    const committed = async (group: string, offset: string) => {
      const offsets = await admin.committed(group, topic);
      return offsets.length === 2 && offsets.every((c) => c.offset === offset);
    };
    try {
      await waitFor(
        () => valuesOf(daemon, "a").length >= 20 && valuesOf(daemon, "b").length >= 20,
        {
          what: "20 messages handled by each consumer",
        },
      );
      // Everything handled is committed before the change (auto mode, every 300 ms).
      await waitFor(
        async () => await committed(groups.a, "10") && await committed(groups.b, "10"),
        {
          what: "offsets 10 and 10 committed by both groups",
        },
      );
      const assignedBefore = daemon.logged("partitions assigned").length;
      const resetsOf = (c: string) =>
        daemon.logged("partition reset").filter((r) => r.consumer === c).length;
      assert.equal(resetsOf("a"), 2, "the daemon's start reset both of a's partitions");

      // A new client id (as a rotated SASL password would) and b's commit interval through defaults:.
      await saveInPlace(path, text("consumerd-rotated", 400));
      const reload = await daemon.waitForLog("config reload");
      assert.equal(reload.ok, true);
      await waitFor(() => daemon.logged("partitions assigned").length >= assignedBefore + 2, {
        what: "both consumers' new workers assigned their partitions",
      });
      await produceNumbered(admin, topic, { count: 6, partitions: 2, prefix: "second" });
      const second = (c: string) => valuesOf(daemon, c).filter((v) => v.startsWith("second"));
      await waitFor(() => second("a").length >= 6 && second("b").length >= 6, {
        what: "the 6 messages produced after the reload handled by each consumer",
      });
      await sleep(1000);

      const a = valuesOf(daemon, "a");
      assert.deepEqual(
        a.filter((v, i) => a.indexOf(v) !== i),
        [],
        "a kafka:-only change replays nothing",
      );
      assert.equal(a.length, 26);
      assert.equal(resetsOf("a"), 2, "a reset nothing since the daemon's start");
      // b's effective definition changed: a new start, which resets what it holds once.
      assert.equal(valuesOf(daemon, "b").length, 46, "b re-read its 20 messages once, then 6");
      assert.equal(resetsOf("b"), 4);
      assert.deepEqual(reload.reconnected, ["a"]);
      assert.deepEqual(reload.restarted, ["b"]);
      assert.match(
        String(reload.summary),
        /kafka changed; restarted b \(definition, kafka\); reconnected a \(resuming from committed offsets\)/,
      );
      assert.equal(reload.kafka, "changed");
      const starts = (c: string) =>
        daemon.logged("consumer started").filter((r) => r.consumer === c).length;
      assert.equal(starts("a"), 1, "a started once, with the daemon");
      await waitFor(() => starts("b") === 2, { what: "b's second start" });
      await waitFor(async () => await committed(groups.a, "13"), {
        what: "a's offsets 13 and 13 committed",
      });
      assert.equal(await daemon.stop(), 0);
    } finally {
      if ((await Promise.race([daemon.exited(), sleep(0).then(() => null)])) === null) {
        await daemon.stop();
      }
      await Deno.remove(dir, { recursive: true });
    }
  });
});

/**
 * A reload that changes `kafka.instanceId` or `kafka.groupProtocol`
 * reconnects the consumers, and their old static members leave the group
 * for good on the way (a shutdown keeps them; a reload does not come back
 * with the same instance id): the group then holds only the new members,
 * not stale ones sitting on partitions until their session timeout. No
 * message is lost or handled twice.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { stringify } from "yaml";
import { saveInPlace } from "../harness/config_files.ts";
import { describeConsumerGroup } from "../harness/consumer_group.ts";
import { fixtureHandler, startDaemon } from "../harness/daemon.ts";
import { BROKERS, steadyLoad, uniqueName, waitFor, withTopic } from "../harness/kafka.ts";

const PARTITIONS = 3;

Deno.test("a reload that changes kafka.instanceId, then kafka.groupProtocol: the old static member leaves, the new one holds every partition; nothing lost or handled twice", async () => {
  await withTopic({ partitions: PARTITIONS, prefix: "reload-static" }, async ({ topic, admin }) => {
    const group = uniqueName("g");
    const dir = await Deno.makeTempDir({ prefix: "consumerd-reload-static-" });
    const path = join(dir, "consumers.yaml");
    const write = (instanceId: string, groupProtocol: string) =>
      saveInPlace(
        path,
        stringify({
          kafka: {
            brokers: BROKERS,
            engine: "platformatic",
            instanceId,
            groupProtocol,
            sessionTimeoutMs: 30_000,
          },
          http: { listen: false },
          reload: { debounceMs: 200 },
          consumers: [{
            name: "c",
            group,
            topic,
            handler: fixtureHandler("record.ts"),
            commit: { mode: "auto", intervalMs: 500 },
          }],
        }),
      );
    await write("x", "classic");
    const daemon = startDaemon(path);
    const load = steadyLoad(admin, topic, { batch: 3, intervalMs: 100, partitions: PARTITIONS });
    const assigned = () => daemon.logged("partitions assigned");
    const holdsAll = () => assigned().at(-1)?.partitions?.toString() === "0,1,2";
    let stopped = false;
    try {
      await waitFor(holdsAll, { what: "the daemon holds every partition", timeoutMs: 60_000 });

      // Another instance id: the classic member x.c.0 leaves, y.c.0 joins and holds everything.
      let before = assigned().length;
      await write("y", "classic");
      await waitFor(() => assigned().length > before && holdsAll(), {
        what: "the new worker holds every partition",
      });
      const members = (await admin.describeGroup(group)).members;
      assert.equal(members.length, 1, `one member, not a stale x.c.0 too: ${members.length}`);

      // The consumer protocol: the group converts, with y.c.0 as its only member.
      before = assigned().length;
      await write("y", "consumer");
      await waitFor(() => assigned().length > before && holdsAll(), {
        what: "the consumer-protocol worker holds every partition",
      });
      const described = await describeConsumerGroup(group);
      assert.deepEqual(
        described.members.map((m) => [m.instanceId, m.assigned]),
        [["y.c.0", [0, 1, 2]]],
      );

      const sent = await load.stop();
      stopped = true;
      const values = () => daemon.handled().map((h) => h.value);
      await waitFor(() => new Set(values()).size === sent, { what: `all ${sent} handled` });
      assert.equal(values().length, sent, "none handled twice");
      assert.equal(await daemon.stop(), 0);
    } finally {
      if (!stopped) await load.stop();
      daemon.kill("SIGKILL");
      await daemon.exited();
      await Deno.remove(dir, { recursive: true });
    }
  });
});

/**
 * Two daemons started with the same `kafka.instanceId` (a copied config, a
 * StatefulSet pod name reused by hand): one of them keeps consuming, the
 * other says why it does not — in its log and in `/status` — and neither
 * takes the instance id back and forth. Under the classic protocol the
 * newer member fences the older (Kafka's rule); under the consumer
 * protocol the older keeps it and the newer waits, and takes over once the
 * older leaves.
 */
import assert from "node:assert/strict";
import { describeConsumerGroup } from "../harness/consumer_group.ts";
import { fixtureHandler } from "../harness/daemon.ts";
import { getStatus, type HttpDaemon, startHttpDaemon } from "../harness/http.ts";
import { steadyLoad, uniqueName, waitFor, withTopic } from "../harness/kafka.ts";

const PARTITIONS = 3;
const IN_USE =
  /instance id x\.c\.0 is in use by another member of group "[^"]+" \(another daemon with kafka\.instanceId x\?\)/;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const holdsAll = (d: HttpDaemon) =>
  d.daemon.logged("partitions assigned").at(-1)?.partitions?.toString() === "0,1,2";

for (const protocol of ["classic", "consumer"] as const) {
  Deno.test(`two daemons with one kafka.instanceId (${protocol} protocol): one consumes, the other says the instance id is in use, and they do not fight over it`, async () => {
    await withTopic({ partitions: PARTITIONS, prefix: "twins" }, async ({ topic, admin }) => {
      const consumer = {
        name: "c",
        group: uniqueName("g"),
        topic,
        handler: fixtureHandler("record.ts"),
        commit: { mode: "auto", intervalMs: 1000 },
      };
      const kafka = (clientId: string) => ({
        clientId,
        engine: "platformatic",
        groupProtocol: protocol,
        instanceId: "x",
        sessionTimeoutMs: 10_000,
      });
      const daemons: HttpDaemon[] = [];
      const load = steadyLoad(admin, topic, { batch: 3, intervalMs: 100, partitions: PARTITIONS });
      try {
        const first = await startHttpDaemon([consumer], { kafka: kafka("first") });
        daemons.push(first);
        await waitFor(() => holdsAll(first), { what: "the first daemon holds every partition" });
        const second = await startHttpDaemon([consumer], { kafka: kafka("second") });
        daemons.push(second);
        const [loser, winner] = protocol === "classic" ? [first, second] : [second, first];

        const status = await waitFor(async () => {
          const c = (await getStatus(loser.url)).consumers[0]!;
          return c.state !== "running" && IN_USE.test(c.reason ?? "") ? c : null;
        }, { what: "the loser's /status names the instance id in use", timeoutMs: 30_000 });
        console.log(
          `${protocol}: the ${loser === first ? "first" : "second"} daemon is ` +
            `${status.state}: ${status.reason}`,
        );
        await waitFor(() => holdsAll(winner), { what: "the winner holds every partition" });

        // The winner's /status says who it is in the group, as the coordinator does.
        const shown = await waitFor(async () => {
          const c = (await getStatus(winner.url)).consumers[0]!;
          return c.state === "running" ? c : null;
        }, { what: "the winner runs" });
        const [member] = shown.members;
        assert.equal(shown.groupProtocol, protocol);
        assert.equal(member?.instanceId, "x.c.0");
        if (protocol === "consumer") {
          const described = (await describeConsumerGroup(consumer.group)).members;
          assert.deepEqual(
            described.map((m) => [m.memberId, m.instanceId, m.memberEpoch]),
            [[member!.memberId, "x.c.0", member!.generation]],
          );
        } else {
          const described = (await admin.describeGroup(consumer.group)).members;
          assert.deepEqual(described.map((m) => m.memberId), [member!.memberId]);
          assert.ok(member!.generation! >= 1, `a generation: ${member!.generation}`);
        }

        // No fight: the winner keeps its assignment, the loser is not restarted in a loop.
        const assigned = winner.daemon.logged("partitions assigned").length;
        const handledBefore = winner.daemon.handled().length;
        await sleep(5_000);
        assert.equal(winner.daemon.logged("partitions assigned").length, assigned, "no rebalance");
        assert.equal(loser.daemon.logged("worker restarting").length, 0, "no restart loop");
        const recent = winner.daemon.handled().slice(handledBefore);
        assert.deepEqual(
          [...new Set(recent.map((h) => h.partition))].sort(),
          [0, 1, 2],
          "the winner consumes every partition",
        );
        assert.ok(
          loser.daemon.records.some((r) => Object.values(r).some((v) => IN_USE.test(String(v)))),
          "the loser's log says why",
        );

        if (protocol === "consumer") {
          // The first daemon stops (it leaves for a while): the second takes the instance id over.
          assert.equal(await first.daemon.stop(), 0);
          await waitFor(() => holdsAll(second), {
            what: "the second daemon holds every partition once the first stopped",
            timeoutMs: 15_000,
          });
          await waitFor(
            async () => (await getStatus(second.url)).consumers[0]!.state === "running",
            {
              what: "the second daemon runs",
            },
          );
        }
      } finally {
        await load.stop();
        for (const d of daemons) d.daemon.kill("SIGKILL");
        await Promise.all(daemons.map((d) => d.daemon.exited()));
      }
    });
  });
}

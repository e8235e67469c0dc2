/**
 * The broker restarts under static members of both protocols: two daemons,
 * a 4-partition topic, the broker stopped for 8 s and started again. The
 * members come back (under the consumer protocol the coordinator reloads
 * the group and its members' epochs; a member it fenced joins again), every
 * message produced before and after is handled, and none twice: everything
 * handled before the stop was committed.
 *
 * It stops this checkout's own broker (KAFKA_PORT), so it runs only with
 * CONSUMERD_LONG_TESTS=1.
 */
import assert from "node:assert/strict";
import { brokerDown, brokerOptions, brokerUp, runningBrokerPid } from "../../scripts/broker.ts";
import { Fleet, holds } from "../harness/fleet.ts";
import { produceNumbered, uniqueName, waitFor, withTopic } from "../harness/kafka.ts";

const PARTITIONS = 4;
const OUTAGE_MS = 8_000;

for (const protocol of ["classic", "consumer"] as const) {
  Deno.test({
    name:
      `the broker restarts under static members (${protocol} protocol): they carry on; nothing lost or handled twice (long)`,
    ignore: Deno.env.get("CONSUMERD_LONG_TESTS") !== "1",
  }, async () => {
    const broker = brokerOptions();
    assert.notEqual(await runningBrokerPid(broker), null, "needs this checkout's own broker");
    await withTopic({ partitions: PARTITIONS, prefix: "restart" }, async ({ topic, admin }) => {
      const group = uniqueName("g");
      const fleet = new Fleet({
        group,
        topic,
        protocol,
        static: true,
        sessionTimeoutMs: 30_000,
      });
      try {
        const [a, b] = [await fleet.start("a"), await fleet.start("b")];
        await waitFor(() => (holds(a)?.length ?? 0) + (holds(b)?.length ?? 0) === PARTITIONS, {
          what: "a and b share the partitions",
          timeoutMs: 60_000,
        });
        await produceNumbered(admin, topic, {
          count: 200,
          partitions: PARTITIONS,
          prefix: "before",
        });
        await waitFor(async () => {
          const committed = await admin.committed(group, topic);
          return committed.every((c) => c.offset === "50") && committed.length === PARTITIONS;
        }, { what: "the first 200 handled and committed" });

        await brokerDown(broker);
        await new Promise((r) => setTimeout(r, OUTAGE_MS));
        const up = await brokerUp(broker);
        console.log(`${protocol}: broker down ${OUTAGE_MS} ms, up again in ${up.startupMs} ms`);

        await produceNumbered(admin, topic, {
          count: 200,
          partitions: PARTITIONS,
          prefix: "after",
        });
        const values = () => fleet.handled().map((h) => h.value);
        await waitFor(() => new Set(values()).size === 400, {
          what: "all 400 handled",
          timeoutMs: 120_000,
        });
        await new Promise((r) => setTimeout(r, 1_000));
        assert.equal(values().length, 400, "none handled twice");
        for (const run of [a, b]) {
          const reasons = run.process.logged("worker restarting").map((r) => r.reason);
          console.log(`${protocol}: ${run.name}'s workers restarted ${reasons.length}: ${reasons}`);
        }
      } finally {
        await fleet.kill();
        if (await runningBrokerPid(broker) === null) await brokerUp(broker);
      }
    });
  });
}

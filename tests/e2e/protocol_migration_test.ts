/**
 * A group whose members speak both protocols, as in an online migration
 * from the classic protocol to the consumer protocol (KIP-848): a classic
 * daemon (kafkajs) runs, a consumer-protocol daemon (platformatic) joins —
 * the broker converts the group and assigns for both — then leaves again,
 * and the group is classic once more. Under steady load every message is
 * handled, and none twice: a classic member commits before it rejoins, a
 * consumer-protocol member before it releases a partition.
 *
 * The suite runs the classic daemon first; with CONSUMERD_LONG_TESTS=1 the
 * other order runs too (a classic member joining a consumer group).
 */
import assert from "node:assert/strict";
import { describeConsumerGroup } from "../harness/consumer_group.ts";
import {
  type DaemonProcess,
  fixtureHandler,
  startDaemon,
  writeConsumersConfig,
} from "../harness/daemon.ts";
import { steadyLoad, uniqueName, waitFor, withTopic } from "../harness/kafka.ts";

const PARTITIONS = 4;
const LONG = Deno.env.get("CONSUMERD_LONG_TESTS") === "1";

type Member = { engine: "kafkajs" | "platformatic"; groupProtocol: "classic" | "consumer" };
const CLASSIC: Member = { engine: "kafkajs", groupProtocol: "classic" };
const CONSUMER: Member = { engine: "platformatic", groupProtocol: "consumer" };

/** The partitions a daemon's worker holds now (its last assignment). */
const holds = (d: DaemonProcess) =>
  (d.logged("partitions assigned").at(-1)?.partitions as number[] | undefined) ?? [];

const ORDERS: Array<[Member, Member]> = LONG ? [[CLASSIC, CONSUMER], [CONSUMER, CLASSIC]] : [[
  CLASSIC,
  CONSUMER,
]];

for (const [first, second] of ORDERS) {
  Deno.test(
    `a group of both protocols: a ${first.groupProtocol} daemon (${first.engine}), a ${second.groupProtocol} daemon (${second.engine}) joins and leaves; each message handled once${
      first.groupProtocol === "classic" ? "" : " (long)"
    }`,
    async () => {
      await withTopic({ partitions: PARTITIONS, prefix: "migrate" }, async ({ topic, admin }) => {
        const group = uniqueName("g");
        const consumer = (m: Member) => ({
          name: "c",
          group,
          topic,
          handler: fixtureHandler("record.ts"),
          commit: { mode: "auto", intervalMs: 1000 },
          ...m,
        });
        const daemons: DaemonProcess[] = [];
        const start = async (m: Member) => {
          const d = startDaemon(await writeConsumersConfig([consumer(m)]));
          daemons.push(d);
          return d;
        };
        const load = steadyLoad(admin, topic, { batch: 4, intervalMs: 50, partitions: PARTITIONS });
        let stopped = false;
        try {
          const a = await start(first);
          await waitFor(() => holds(a).length === PARTITIONS, { what: "a holds every partition" });
          const b = await start(second);
          await waitFor(
            () =>
              holds(a).length > 0 && holds(b).length > 0 &&
              holds(a).length + holds(b).length === PARTITIONS,
            {
              what: "a and b share the partitions",
              timeoutMs: 60_000,
            },
          );
          const described = await describeConsumerGroup(group);
          assert.equal(described.members.length, 2, "a consumer group of two members");
          console.log(
            `group converted: ${
              described.members.map((m) => `${m.clientId} ${m.assigned}`).join(", ")
            }`,
          );
          await new Promise((r) => setTimeout(r, 2_000));
          assert.equal(await b.stop(), 0, "b drains and exits 0");
          await waitFor(() => holds(a).length === PARTITIONS, {
            what: "a holds every partition again",
            timeoutMs: 60_000,
          });
          if (first.groupProtocol === "classic") {
            // Its last consumer-protocol member gone, the group is classic again.
            await assert.rejects(() => describeConsumerGroup(group), /group id does not exist/);
          }
          const sent = await load.stop();
          stopped = true;
          const handled = () => [...a.handled(), ...b.handled()];
          await waitFor(() => new Set(handled().map((h) => h.value)).size === sent, {
            what: `all ${sent} messages handled`,
            timeoutMs: 60_000,
          });
          await new Promise((r) => setTimeout(r, 1_000)); // a moment for any duplicate to show
          const values = handled().map((h) => h.value);
          console.log(`${sent} messages, ${values.length - new Set(values).size} handled twice`);
          assert.equal(values.length, new Set(values).size, "no message handled twice");
          assert.equal(await a.stop(), 0);
        } finally {
          if (!stopped) await load.stop();
          for (const d of daemons) d.kill("SIGKILL");
          await Promise.all(daemons.map((d) => d.exited()));
        }
      });
    },
  );
}

import assert from "node:assert/strict";
import {
  consumersInTheWay,
  daemonRefusal,
  movedOffsets,
  movedRefusal,
} from "../../../src/cli/reset_guard.ts";
import { statusUrl } from "../../../src/cli/kafka_target.ts";

Deno.test("movedOffsets() lists the watched partitions whose committed offset changed", () => {
  const before = new Map<number, string | null>([[0, "10"], [1, "10"], [2, null]]);
  const after = new Map<number, string | null>([[0, "14"], [1, "10"], [2, "3"], [3, "9"]]);
  assert.deepEqual(movedOffsets(before, after, [0, 1, 2]), [
    { partition: 0, from: "10", to: "14" },
    { partition: 2, from: null, to: "3" },
  ]);
  assert.deepEqual(movedOffsets(before, after, [1]), [], "partition 3 is not being reset");
  assert.deepEqual(movedOffsets(before, before, [0, 1, 2]), []);
});

const status = (consumers: unknown[]) => ({ config: {}, consumers });
const consumer = (over: Record<string, unknown>) => ({
  name: "orders",
  group: "g",
  topic: "t",
  mode: "simple",
  state: "running",
  partitions: [{ partition: 0 }, { partition: 1 }],
  ...over,
});

Deno.test("consumersInTheWay() finds a daemon's live consumers of the group and topic on the reset's partitions", () => {
  const where = { group: "g", topic: "t", partitions: [1, 2] };
  assert.deepEqual(consumersInTheWay(status([consumer({})]), where), [
    { name: "orders", mode: "simple", state: "running" },
  ]);
  assert.deepEqual(
    consumersInTheWay(status([consumer({ state: "starting", partitions: [] })]), where).length,
    1,
    "a consumer still starting holds nothing yet: in the way",
  );
  for (
    const other of [
      { group: "h" },
      { topic: "u" },
      { state: "stopped" },
      { partitions: [{ partition: 0 }] },
    ]
  ) {
    assert.deepEqual(
      consumersInTheWay(status([consumer(other)]), where),
      [],
      JSON.stringify(other),
    );
  }
  assert.throws(() => consumersInTheWay({ ok: true }, where), /no consumers list/);
});

Deno.test("the refusals say who commits, how to stop it and how to override", () => {
  const daemon = daemonRefusal(
    "http://127.0.0.1:9464/",
    [{ name: "orders", mode: "simple", state: "running" }],
    { group: "g", topic: "t" },
  );
  assert.match(
    daemon,
    /^the daemon at http:\/\/127\.0\.0\.1:9464\/ runs consumer `orders` \(simple mode, running\) on group g, topic t; stop it first/,
  );
  assert.match(daemon, /or pass --force to reset anyway, knowing that its next commit overwrites/);
  const moved = movedRefusal(
    [1, 2, 3, 4].map((p) => ({ partition: p, from: "10", to: "12" })),
    { group: "g", topic: "t", watchMs: 6000 },
  );
  assert.match(
    moved,
    /^group g's committed offsets on t moved while they were watched for 6 s \(partition 1: 10 → 12, partition 2: 10 → 12, partition 3: 10 → 12, and 1 more\)/,
  );
  assert.match(moved, /a simple-mode consumer\) is running; stop it first/);
});

Deno.test("statusUrl() reaches a wildcard listener by loopback, and knows no port 0", () => {
  assert.equal(statusUrl({ host: "0.0.0.0", port: 9464 }), "http://127.0.0.1:9464/");
  assert.equal(statusUrl({ host: "::", port: 9464 }), "http://[::1]:9464/");
  assert.equal(statusUrl({ host: "10.0.0.5", port: 80 }), "http://10.0.0.5:80/");
  assert.equal(statusUrl({ host: "127.0.0.1", port: 0 }), null);
});

import assert from "node:assert/strict";
import { laneKey, Lanes } from "../../../src/worker/lanes.ts";

const bytes = (text: string) => new TextEncoder().encode(text);

/** Takes every ready lane and returns their first items, leaving them running. */
function takeAll<T>(lanes: Lanes<T>): T[] {
  const taken: T[] = [];
  for (let lane = lanes.take(); lane !== null; lane = lanes.take()) taken.push(lane.first);
  return taken;
}

Deno.test("laneKey() keys by bytes with ordering key; each keyless message, and every message with none, is on its own", () => {
  assert.equal(laneKey("key", bytes("order-7")), "order-7");
  assert.equal(laneKey("key", null), null);
  assert.equal(laneKey("none", bytes("order-7")), null);
  // Distinct byte strings never share a lane, even when they are not UTF-8.
  assert.equal(laneKey("key", new Uint8Array([0xc3, 0xa9])), laneKey("key", bytes("é")));
  assert.notEqual(laneKey("key", new Uint8Array([0xff])), laneKey("key", new Uint8Array([0xfe])));
  assert.equal(laneKey("key", new Uint8Array(10_000).fill(65))!.length, 10_000);
});

Deno.test("Lanes: messages of one lane run one at a time, in the order queued; other lanes run beside", () => {
  const lanes = new Lanes<string>();
  for (const item of ["a1", "b1", "a2", "c1", "a3", "b2"]) lanes.push(0, item[0]!, item);
  assert.equal(lanes.buffered, 6);
  const first = takeAll(lanes);
  assert.deepEqual(first, ["a1", "b1", "c1"], "one message per lane, oldest first");
  const a = lanes.lane(0, "a")!;
  lanes.advance(a);
  assert.deepEqual(takeAll(lanes), ["a2"]);
  lanes.advance(a);
  assert.deepEqual(takeAll(lanes), ["a3"]);
  lanes.advance(a);
  assert.equal(lanes.lane(0, "a"), undefined, "a finished lane is forgotten");
  assert.equal(lanes.buffered, 2 /* b1 running, b2 */ + 1 /* c1 running */);
});

Deno.test("Lanes: the ready lane whose first message was queued first runs first", () => {
  const lanes = new Lanes<string>();
  lanes.push(0, "slow", "slow-1");
  lanes.push(0, "slow", "slow-2");
  for (let i = 0; i < 5; i++) lanes.push(1, `k${i}`, `k${i}`);
  const slow = lanes.take()!;
  assert.equal(slow.first, "slow-1");
  assert.deepEqual([lanes.take()!.first, lanes.take()!.first], ["k0", "k1"]);
  // slow-2 was queued before k2..k4: once its lane is free it goes ahead of them.
  lanes.advance(slow);
  assert.deepEqual(takeAll(lanes), ["slow-2", "k2", "k3", "k4"]);
});

Deno.test("Lanes: keyless messages and ordering none run in parallel, in queue order", () => {
  const lanes = new Lanes<number>();
  for (let i = 0; i < 100; i++) lanes.push(i % 3, null, i);
  assert.deepEqual(takeAll(lanes), Array.from({ length: 100 }, (_, i) => i));
});

Deno.test("Lanes: the same key in two partitions is two lanes", () => {
  const lanes = new Lanes<string>();
  lanes.push(0, "k", "p0");
  lanes.push(1, "k", "p1");
  assert.deepEqual(takeAll(lanes), ["p0", "p1"]);
});

Deno.test("Lanes: a held lane waits, and keeps its place when released", () => {
  const lanes = new Lanes<string>();
  lanes.push(0, "poison", "p1");
  lanes.push(0, "poison", "p2");
  lanes.push(0, "x", "x1");
  lanes.push(0, "y", "y1");
  const poison = lanes.take()!;
  lanes.hold(poison); // its call failed: a retry comes later
  assert.deepEqual(takeAll(lanes), ["x1", "y1"], "other keys go on");
  lanes.push(0, "z", "z1");
  lanes.release(poison);
  assert.deepEqual(takeAll(lanes), ["p1", "z1"], "the retried message keeps its place");
  assert.equal(poison.size, 2);
});

Deno.test("Lanes.drop() drops a partition's waiting messages; a running one holds its key's place until it ends", () => {
  const lanes = new Lanes<string>();
  lanes.push(0, "a", "a1");
  lanes.push(0, "a", "a2");
  lanes.push(0, null, "n1");
  lanes.push(0, "h", "h1");
  lanes.push(1, "a", "other");
  lanes.push(0, "b", "b1");
  const a = lanes.take()!;
  const n = lanes.take()!;
  const h = lanes.take()!;
  lanes.hold(h);
  assert.equal(lanes.drop(0), 3, "a2, h1 (held), b1");
  assert.equal(lanes.buffered, 3, "a1 and n1 still run; other waits");
  assert.equal(h.state, "done");
  lanes.release(h); // a held lane dropped meanwhile stays dropped
  lanes.push(0, "a", "a9"); // the partition read again: a9 waits for a1, still running
  assert.deepEqual(takeAll(lanes), ["other"]);
  lanes.advance(n);
  lanes.advance(a);
  assert.deepEqual(takeAll(lanes), ["a9"]);
  assert.equal(lanes.buffered, 2, "a9 and other run");
  assert.equal(lanes.drop(7), 0);
});

Deno.test("Lanes: a long lane stays in order while it compacts", () => {
  const lanes = new Lanes<number>();
  for (let i = 0; i < 1000; i++) lanes.push(0, "k", i);
  const seen: number[] = [];
  for (let lane = lanes.take(); lane !== null; lane = lanes.take()) {
    seen.push(lane.first);
    lanes.advance(lane);
  }
  assert.deepEqual(seen, Array.from({ length: 1000 }, (_, i) => i));
  assert.equal(lanes.buffered, 0);
});

Deno.test("Lanes: random pushes and finishes keep per-lane order and oldest-first among ready lanes", () => {
  let x = 12345;
  const next = () => ((x = (x * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
  const lanes = new Lanes<{ key: string; n: number; seq: number }>();
  const lastRun = new Map<string, number>();
  const running: Array<ReturnType<typeof lanes.take>> = [];
  let seq = 0;
  const counters = new Map<string, number>();
  for (let step = 0; step < 20_000; step++) {
    const roll = next();
    if (roll < 0.5) {
      const key = `k${Math.floor(next() * 50)}`;
      const n = counters.get(key) ?? 0;
      counters.set(key, n + 1);
      lanes.push(0, key, { key, n, seq: seq++ });
    } else if (roll < 0.75 && running.length < 10) {
      const lane = lanes.take();
      if (lane === null) continue;
      const item = lane.first;
      assert.equal(item.n, (lastRun.get(item.key) ?? -1) + 1, "in order within the key");
      lastRun.set(item.key, item.n);
      running.push(lane);
    } else if (running.length > 0) {
      const [lane] = running.splice(Math.floor(next() * running.length), 1);
      lanes.advance(lane!);
    }
  }
});

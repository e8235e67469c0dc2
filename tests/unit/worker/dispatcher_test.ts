import assert from "node:assert/strict";
import type { FetchedBatch } from "../../../src/kafka/session.ts";
import { createLogger } from "../../../src/log.ts";
import { createMessage, type Message } from "../../../src/message.ts";
import { CommitTracker } from "../../../src/offsets/commit_tracker.ts";
import { FinishedOffsets } from "../../../src/offsets/commit_metadata.ts";
import type { Context } from "../../../src/worker/context.ts";
import { Dispatcher, type DispatcherOptions } from "../../../src/worker/dispatcher.ts";
import { keyLabel } from "../../../src/worker/key_label.ts";

const encoder = new TextEncoder();

function message(partition: number, offset: number, key: string | null): Message {
  return createMessage({
    topic: "t",
    partition,
    offset: String(offset),
    key: key === null ? null : encoder.encode(key),
    value: encoder.encode(`${key}@${offset}`),
    headers: {},
    timestamp: "0",
  });
}

/** A batch of `keys` (one message per entry, offsets from `from`), and what it was resolved to. */
function batch(
  partition: number,
  keys: Array<string | null>,
  { from = 0, generation = 1, active = (): boolean => true } = {},
): FetchedBatch & { resolved: string[] } {
  const messages = keys.map((key, i) => message(partition, from + i, key));
  const resolved: string[] = [];
  return {
    partition,
    generation,
    highWatermark: String(from + keys.length),
    size: messages.length,
    at: (i) => messages[i]!,
    resolve: (offset) => void resolved.push(offset),
    active,
    heartbeat: () => Promise.resolve(),
    resolved,
  };
}

/** A handler whose calls end when the test says, recording what runs. */
function controlled() {
  const running = new Map<string, { resolve: () => void; reject: (e: unknown) => void }>();
  const started: string[] = [];
  const received = new Map<string, Message>();
  let most = 0;
  const label = (m: Message) => new TextDecoder().decode(m.value!);
  return {
    started,
    running,
    received,
    get most() {
      return most;
    },
    handle: (m: Message) =>
      new Promise<void>((resolve, reject) => {
        started.push(label(m));
        received.set(label(m), m);
        running.set(label(m), { resolve, reject });
        most = Math.max(most, running.size);
      }),
    end(name: string, error?: unknown) {
      const call = running.get(name);
      assert.ok(call, `${name} is not running (running: ${[...running.keys()]})`);
      running.delete(name);
      if (error === undefined) call.resolve();
      else call.reject(error);
    },
  };
}

const ctx = {} as Context;
const settle = () => new Promise((r) => setTimeout(r, 0));

function dispatcher(
  handle: DispatcherOptions["handle"],
  over: Partial<DispatcherOptions> = {},
): { dispatcher: Dispatcher; tracker: CommitTracker; abort: AbortController; paused: Message[] } {
  const tracker = new CommitTracker();
  const abort = new AbortController();
  const paused: Message[] = [];
  const d = new Dispatcher({
    ordering: "key",
    concurrency: 2,
    maxBuffered: 100,
    handle,
    ctx,
    retry: { attempts: 1, backoffMs: 10, maxBackoffMs: 50 },
    signal: abort.signal,
    log: createLogger({ level: "error" }),
    tracker,
    keepaliveMs: 20,
    turnEveryMs: 50,
    deadLetter: () => Promise.resolve(false),
    onKeyPaused: (m) => void paused.push(m),
    ...over,
  });
  return { dispatcher: d, tracker, abort, paused };
}

Deno.test("Dispatcher runs at most `concurrency` calls, one per key at a time, in offset order", async () => {
  const h = controlled();
  const { dispatcher: d, tracker } = dispatcher(h.handle);
  tracker.seed(0, "0");
  d.assign(0, 1, null);
  const b = batch(0, ["a", "a", "b", "c", "a"]);
  await d.onBatch(b);
  assert.deepEqual(b.resolved, ["4"], "the fetch position moves past every queued message");
  assert.deepEqual(h.started, ["a@0", "b@2"]);
  h.end("a@0");
  await settle();
  assert.deepEqual(h.started, ["a@0", "b@2", "a@1"], "a@1 queued first, goes first");
  h.end("b@2");
  await settle();
  h.end("a@1");
  await settle();
  h.end("c@3");
  await settle();
  h.end("a@4");
  await settle();
  assert.deepEqual(h.started, ["a@0", "b@2", "a@1", "c@3", "a@4"]);
  assert.equal(h.most, 2);
  assert.equal(tracker.position(0), "5");
  assert.equal(d.buffered, 0);
  d.close();
});

Deno.test("Dispatcher: the commit point stays at the oldest unfinished message while later ones finish", async () => {
  const h = controlled();
  const { dispatcher: d, tracker } = dispatcher(h.handle, { concurrency: 3 });
  tracker.seed(0, "10");
  d.assign(0, 1, null);
  await d.onBatch(batch(0, ["slow", "x", "y"], { from: 10 }));
  h.end("x@11");
  h.end("y@12");
  await settle();
  assert.equal(tracker.position(0), "10");
  assert.deepEqual(tracker.finishedBeyond(0), ["11", "12"]);
  d.close();
});

Deno.test("Dispatcher skips what the commit it started from lists as finished", async () => {
  const h = controlled();
  const { dispatcher: d, tracker } = dispatcher(h.handle, { concurrency: 10 });
  tracker.seed(0, "0");
  d.assign(0, 1, new FinishedOffsets([[1n, 3n], [4n, 5n]]));
  await d.onBatch(batch(0, ["a", "b", "c", "d", "e", "f"]));
  assert.deepEqual(h.started.sort(), ["a@0", "d@3", "f@5"]);
  h.end("a@0");
  await settle();
  assert.equal(tracker.position(0), "3", "1 and 2 count as finished");
  d.close();
});

Deno.test("Dispatcher: a failing call is tried again in its lane while other keys go on; a key out of attempts is paused, not its partition", async () => {
  const h = controlled();
  const { dispatcher: d, tracker, paused } = dispatcher(h.handle, {
    concurrency: 4,
    retry: { attempts: 2, backoffMs: 30, maxBackoffMs: 60 },
  });
  tracker.seed(0, "0");
  d.assign(0, 1, null);
  await d.onBatch(batch(0, ["p", "p", "x", "y"]));
  h.end("p@0", new Error("boom"));
  h.end("x@2");
  await settle();
  assert.deepEqual(h.started, ["p@0", "x@2", "y@3"], "p@1 waits for p@0's retry");
  await new Promise((r) => setTimeout(r, 60));
  assert.deepEqual(h.started, ["p@0", "x@2", "y@3", "p@0"], "p@0 tried again");
  h.end("p@0", new Error("boom again"));
  await settle();
  assert.deepEqual(paused.map((m) => m.offset), ["0"]);
  assert.deepEqual(d.pausedKeys().keys.map((k) => [k.key, k.offset]), [["p", "0"]]);
  h.end("y@3");
  await settle();
  assert.equal(tracker.position(0), "0", "never committed past the paused key");
  // After maxBackoffMs the key is tried again, with its attempts anew.
  await new Promise((r) => setTimeout(r, 90));
  assert.equal(h.started.filter((s) => s === "p@0").length, 3);
  assert.equal(d.pausedKeys().count, 0);
  h.end("p@0");
  await settle();
  h.end("p@1");
  await settle();
  assert.equal(tracker.position(0), "4");
  d.close();
});

Deno.test("Dispatcher: a message dead-lettered after its attempts counts as finished and its key goes on", async () => {
  const h = controlled();
  const dead: string[] = [];
  const { dispatcher: d, tracker } = dispatcher(h.handle, {
    deadLetter: (messages) => {
      dead.push(...messages.map((m) => m.offset));
      return Promise.resolve(true);
    },
  });
  tracker.seed(0, "0");
  d.assign(0, 1, null);
  await d.onBatch(batch(0, ["p", "p"]));
  h.end("p@0", new Error("poison"));
  await settle();
  await settle();
  assert.deepEqual(dead, ["0"]);
  assert.deepEqual(h.started, ["p@0", "p@1"]);
  h.end("p@1");
  await settle();
  assert.equal(tracker.position(0), "2");
  d.close();
});

Deno.test("Dispatcher: a full buffer holds the batch until calls finish; an inactive batch stops there, resolved to what was queued", async () => {
  const h = controlled();
  let active = true;
  const { dispatcher: d, tracker } = dispatcher(h.handle, { concurrency: 2, maxBuffered: 4 });
  tracker.seed(0, "0");
  d.assign(0, 1, null);
  const b = batch(0, ["a", "a", "a", "a", "a", "a", "a", "a"], { active: () => active });
  let done = false;
  const queued = d.onBatch(b).then(() => (done = true));
  await settle();
  assert.equal(d.buffered, 4);
  assert.equal(done, false, "waiting for room");
  h.end("a@0");
  await settle();
  h.end("a@1");
  await settle();
  assert.ok(d.buffered <= 4);
  active = false; // a rebalance began
  d.wake();
  await queued;
  const last = Number(b.resolved.at(-1));
  assert.ok(last >= 3 && last < 7, `resolved to ${last}: only what was queued`);
  assert.equal(tracker.inFlight(0), d.buffered, "every begun message waits or runs");
  d.close();
});

Deno.test("Dispatcher.revoke() drops what waits, waits for the calls running, and counts those that finish", async () => {
  const h = controlled();
  const { dispatcher: d, tracker } = dispatcher(h.handle, { concurrency: 2 });
  tracker.seed(0, "0");
  d.assign(0, 1, null);
  await d.onBatch(batch(0, ["a", "b", "c", "d"]));
  let revoked = false;
  const revoking = d.revoke([0]).then(() => (revoked = true));
  await settle();
  assert.equal(revoked, false, "a@0 and b@1 still run");
  assert.equal(d.buffered, 2, "c and d dropped");
  h.end("a@0");
  h.end("b@1", new Error("fails while draining: not tried again"));
  await revoking;
  assert.equal(tracker.position(0), "1", "a@0 finished and counts; b@1 stays unfinished");
  assert.deepEqual(h.started, ["a@0", "b@1"]);
  d.close();
});

Deno.test("Dispatcher: nothing starts once stopping, and a call that fails then is not retried", async () => {
  const h = controlled();
  const { dispatcher: d, tracker, abort } = dispatcher(h.handle, {
    concurrency: 1,
    retry: { attempts: 3, backoffMs: 1, maxBackoffMs: 1 },
  });
  tracker.seed(0, "0");
  d.assign(0, 1, null);
  await d.onBatch(batch(0, ["a", "b"]));
  abort.abort();
  h.end("a@0", new Error("aborted"));
  await new Promise((r) => setTimeout(r, 20));
  assert.deepEqual(h.started, ["a@0"]);
  await d.idle();
  d.close();
});

Deno.test("Dispatcher runs thousands of synchronous calls without deep recursion, letting the event loop turn", async () => {
  let calls = 0;
  const { dispatcher: d, tracker } = dispatcher(() => void calls++, {
    ordering: "none",
    concurrency: 4,
    maxBuffered: 20_000,
    turnEveryMs: 5,
  });
  tracker.seed(0, "0");
  d.assign(0, 1, null);
  await d.onBatch(batch(0, Array.from({ length: 20_000 }, () => "k")));
  await d.idle();
  while (d.buffered > 0) await settle();
  assert.equal(calls, 20_000);
  assert.equal(tracker.position(0), "20000");
  d.close();
});

Deno.test("Dispatcher copies messages that waited a sweep interval out of their fetch response", async () => {
  const h = controlled();
  const { dispatcher: d, tracker } = dispatcher(h.handle, { concurrency: 1 });
  tracker.seed(0, "0");
  d.assign(0, 1, null);
  const b = batch(0, ["a", "a", "b"]);
  const waiting = b.at(1);
  const running = b.at(0);
  await d.onBatch(b);
  await new Promise((r) => setTimeout(r, 2100));
  h.end("a@0");
  await settle();
  h.end("a@1");
  await settle();
  assert.equal(h.received.get("a@0"), running, "a message that ran at once is the client's own");
  const copy = h.received.get("a@1")!;
  assert.notEqual(copy, waiting, "a message that waited is a copy");
  assert.deepEqual(copy.value, waiting.value);
  assert.notEqual(copy.value!.buffer, waiting.value!.buffer, "with bytes of its own");
  assert.equal(copy.offset, "1");
  h.end("b@2");
  d.close();
});

Deno.test("keyLabel() shows printable UTF-8 as text, anything else as hex", () => {
  assert.equal(keyLabel(encoder.encode("order-7")), "order-7");
  assert.equal(keyLabel(new Uint8Array([0, 255])), "0x00ff");
  assert.equal(keyLabel(encoder.encode("tab\there")), "0x" + "746162096865726" + "5");
  assert.equal(keyLabel(null), null);
  assert.equal(keyLabel(encoder.encode("x".repeat(100))), `${"x".repeat(64)}…`);
});

Deno.test("Dispatcher: messages without a key each run on their own, in parallel, as with ordering none", async () => {
  const h = controlled();
  const { dispatcher: d, tracker } = dispatcher(h.handle, { concurrency: 3 });
  tracker.seed(0, "0");
  d.assign(0, 1, null);
  await d.onBatch(batch(0, [null, null, "k", null]));
  assert.deepEqual(h.started, ["null@0", "null@1", "k@2"]);
  h.end("null@1");
  await settle();
  assert.deepEqual(h.started, ["null@0", "null@1", "k@2", "null@3"]);
  d.close();
});

Deno.test("Dispatcher.busyMs() is how long the longest running call has run", async () => {
  const h = controlled();
  const { dispatcher: d, tracker } = dispatcher(h.handle, { concurrency: 2 });
  tracker.seed(0, "0");
  d.assign(0, 1, null);
  assert.equal(d.busyMs(Date.now()), null);
  await d.onBatch(batch(0, ["a"]));
  await new Promise((r) => setTimeout(r, 30));
  await d.onBatch(batch(0, ["b"], { from: 1 }));
  const busy = d.busyMs(Date.now())!;
  assert.ok(busy >= 25, `${busy} ms: the older call counts`);
  h.end("a@0");
  await settle();
  assert.ok(d.busyMs(Date.now())! < 25);
  h.end("b@1");
  await settle();
  assert.equal(d.busyMs(Date.now()), null);
  d.close();
});

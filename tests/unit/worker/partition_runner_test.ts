import assert from "node:assert/strict";
import type { FetchedBatch } from "../../../src/kafka/session.ts";
import { createLogger } from "../../../src/log.ts";
import type { Handler } from "../../../src/worker/handler.ts";
import { createMessage, type Message } from "../../../src/message.ts";
import type { Context } from "../../../src/worker/context.ts";
import { BatchRun, type BatchRunOptions } from "../../../src/worker/partition_runner.ts";
import { StatsCounter } from "../../../src/worker/stats.ts";
import { TurnPacer } from "../../../src/worker/event_loop.ts";

/** An in-memory batch of partition 0 holding `values` at offsets 10, 11, … */
function memoryBatch(values: string[], { generation = 1 } = {}) {
  const state = { active: true, resolved: [] as string[] };
  const encoder = new TextEncoder();
  const batch: FetchedBatch = {
    partition: 0,
    generation,
    highWatermark: String(10 + values.length),
    size: values.length,
    at: (i) =>
      createMessage({
        topic: "t",
        partition: 0,
        offset: String(10 + i),
        key: null,
        value: encoder.encode(values[i]!),
        headers: {},
        timestamp: "0",
      }),
    resolve: (offset) => state.resolved.push(offset),
    active: () => state.active,
    heartbeat: () => Promise.resolve(),
  };
  return { batch, state };
}

/** Options recording what the run reports; `deadLetter` succeeds when `dlq` is true. */
function options(handler: Handler, { dlq = false, attempts = 2, generation = 1 } = {}) {
  const abort = new AbortController();
  const seen = {
    finished: [] as string[],
    deadLettered: [] as string[],
    paused: [] as string[],
  };
  const ctx: Context = {
    consumer: "c",
    group: "g",
    topic: "t",
    settings: {},
    log: createLogger({ level: "error" }),
    commit: () => Promise.resolve(),
    ack: () => {},
    produce: () => Promise.resolve(),
    signal: abort.signal,
  };
  const opts: BatchRunOptions = {
    handler,
    ctx,
    retry: { attempts, backoffMs: 0, maxBackoffMs: 0 },
    signal: abort.signal,
    log: createLogger({ level: "error" }),
    tickMs: 1000,
    keepaliveMs: 1000,
    turns: new TurnPacer(1000),
    onFinished: (_partition, offset, g) => {
      if (g !== generation) return false;
      seen.finished.push(offset);
      return true;
    },
    onTick: () => Promise.resolve(),
    deadLetter: (messages: Message[]) => {
      if (!dlq) return Promise.resolve(false);
      seen.deadLettered.push(...messages.map((m) => m.offset));
      return Promise.resolve(true);
    },
    failPartition: (message) => seen.paused.push(message.offset),
  };
  return { opts, seen, abort };
}

const each = (fn: (m: Message, ctx: Context) => unknown): Handler => ({ kind: "message", fn });
const batchOf = (fn: (m: Message[], ctx: Context) => unknown): Handler => ({ kind: "batch", fn });

Deno.test("BatchRun hands over the finished prefix in order and pauses at a message that keeps failing", async () => {
  const { batch, state } = memoryBatch(["a", "b", "bad", "c"]);
  const handled: string[] = [];
  const { opts, seen } = options(each((m) => {
    if (m.text() === "bad") throw new Error("bad");
    handled.push(m.offset);
  }));
  await new BatchRun(batch, opts).run();
  assert.deepEqual(handled, ["10", "11"]);
  assert.deepEqual(seen.finished, ["11"]);
  assert.deepEqual(state.resolved, ["11"]);
  assert.deepEqual(seen.paused, ["12"], "never skipped");
});

Deno.test("BatchRun: a handler that throws or rejects with null, undefined or a promise has failed", async (t) => {
  const cases: Array<[string, (m: Message) => unknown]> = [
    ["throws null", () => {
      throw null;
    }],
    ["rejects with null", () => Promise.reject(null)],
    ["rejects with undefined", async () => {
      await Promise.resolve();
      throw undefined;
    }],
    ["throws a promise of null", () => {
      throw Promise.resolve(null);
    }],
    ["rejects with a thenable that never settles", () => Promise.reject({ then() {} })],
  ];
  for (const [name, fail] of cases) {
    await t.step(name, async () => {
      const { batch } = memoryBatch(["a", "bad", "c"]);
      const { opts, seen } = options(
        each((m) => m.text() === "bad" ? fail(m) : Promise.resolve()),
      );
      await new BatchRun(batch, opts).run();
      assert.deepEqual(seen.finished, ["10"]);
      assert.deepEqual(seen.paused, ["11"], "never committed past");
    });
  }
});

Deno.test("BatchRun counts each handled message's call in the duration histogram", async () => {
  const { batch } = memoryBatch(["a", "b", "c", "d"]);
  const stats = new StatsCounter();
  const { opts } = options(each(async (m) => {
    if (m.offset === "12") await new Promise((r) => setTimeout(r, 5));
  }));
  await new BatchRun(batch, { ...opts, stats }).run();
  const { processed, duration } = stats.snapshot();
  assert.equal(processed, 4);
  assert.equal(duration.count, 4);
  assert.ok(duration.sum >= 0.004, `the 5 ms call is in the sum (${duration.sum} s)`);
  assert.ok(duration.sum < 0.5, `and the rest are short (${duration.sum} s)`);
});

Deno.test("BatchRun counts finished messages at once, while the next call still runs", async () => {
  const { batch } = memoryBatch(Array.from({ length: 21 }, (_, i) => String(i)));
  const stats = new StatsCounter();
  const { promise: hang, resolve: release } = Promise.withResolvers<void>();
  const { opts, seen } = options(each((m) => m.text() === "20" ? hang : Promise.resolve()));
  const done = new BatchRun(batch, { ...opts, stats }).run();
  await new Promise((r) => setTimeout(r, 50)); // a report, or a stop's deadline, comes now
  assert.equal(stats.snapshot().processed, 20, "the 20 finished messages are counted");
  assert.equal(stats.snapshot().duration.count, 20);
  release();
  await done;
  assert.equal(stats.snapshot().processed, 21);
  assert.deepEqual(seen.finished, ["30"]);
});

Deno.test("BatchRun leaves a call that failed for good out of the durations of the calls before it", async () => {
  const { batch } = memoryBatch(Array.from({ length: 21 }, (_, i) => String(i)));
  const stats = new StatsCounter();
  const { opts, seen } = options(
    each(async (m) => {
      if (m.text() !== "20") return; // 20 quick calls, then one that fails after 50 ms
      await new Promise((r) => setTimeout(r, 50));
      throw new Error("boom");
    }),
    { dlq: true, attempts: 1 },
  );
  await new BatchRun(batch, { ...opts, stats }).run();
  const { processed, duration } = stats.snapshot();
  assert.deepEqual(seen.deadLettered, ["30"]);
  assert.equal(processed, 21);
  assert.equal(duration.count, 20);
  assert.equal(duration.buckets.slice(2).reduce((a, b) => a + b, 0), 0, `${duration.buckets}`);
  assert.ok(duration.sum < 0.01, `${duration.sum} s for 20 quick calls`);
});

Deno.test("BatchRun: a call that fails once the worker is stopping is not a failure", async () => {
  const { batch } = memoryBatch(["a", "b"]);
  const { opts, seen, abort } = options(
    each(async (m) => {
      if (m.offset === "10") return;
      abort.abort();
      await Promise.resolve();
      throw new DOMException("stopping", "AbortError");
    }),
    { dlq: true },
  );
  await new BatchRun(batch, opts).run();
  assert.deepEqual(seen.finished, ["10"]);
  assert.deepEqual(seen.deadLettered, [], "not dead-lettered");
  assert.deepEqual(seen.paused, []);
});

Deno.test("BatchRun starts no new call once the batch is no longer active (rebalance)", async () => {
  const { batch, state } = memoryBatch(["a", "b", "c"]);
  const handled: string[] = [];
  const { opts, seen } = options(each(async (m) => {
    handled.push(m.offset);
    state.active = false; // the group started rebalancing during this call
    await Promise.resolve();
  }));
  await new BatchRun(batch, opts).run();
  assert.deepEqual(handled, ["10"], "the call in progress finished; no new one started");
  assert.deepEqual(seen.finished, ["10"]);
});

Deno.test("BatchRun hands nothing over for an assignment generation that is over", async () => {
  const { batch, state } = memoryBatch(["a", "b"], { generation: 1 });
  const { opts, seen } = options(each(() => {}), { generation: 2 });
  await new BatchRun(batch, opts).run();
  assert.deepEqual(seen.finished, []);
  assert.deepEqual(state.resolved, []);
});

Deno.test("BatchRun: a batch handler's acks finish messages; only the one it stopped at is dead-lettered", async () => {
  const { batch } = memoryBatch(["a", "poison", "b", "c"]);
  const calls: string[][] = [];
  const { opts, seen } = options(
    batchOf((messages, ctx) => {
      calls.push(messages.map((m) => m.offset));
      for (const m of messages) {
        if (m.text() === "poison") throw new Error("poison");
        ctx.ack(m);
      }
    }),
    { dlq: true, attempts: 2 },
  );
  await new BatchRun(batch, opts).run();
  assert.deepEqual(calls, [["10", "11", "12", "13"], ["11", "12", "13"], ["12", "13"]]);
  assert.deepEqual(seen.deadLettered, ["11"]);
  assert.deepEqual(seen.finished, ["13"]);
});

Deno.test("BatchRun: a batch handler that acks nothing is retried and dead-lettered whole", async () => {
  const { batch } = memoryBatch(["a", "b"]);
  const { opts, seen } = options(
    batchOf(() => {
      throw new Error("down");
    }),
    { dlq: true },
  );
  await new BatchRun(batch, opts).run();
  assert.deepEqual(seen.deadLettered, ["10", "11"]);
  assert.deepEqual(seen.finished, ["11"]);
});

Deno.test("BatchRun: a batch handler that acked every message and then throws has finished the batch", async () => {
  const { batch } = memoryBatch(["a", "b"]);
  let calls = 0;
  const { opts, seen } = options(batchOf((messages, ctx) => {
    calls++;
    for (const m of messages) ctx.ack(m);
    throw new Error("flush failed after the acks");
  }));
  await new BatchRun(batch, opts).run();
  assert.equal(calls, 1, "never called with an empty batch");
  assert.deepEqual(seen.finished, ["11"]);
  assert.deepEqual(seen.paused, []);
});

Deno.test("BatchRun: ctx.ack() of a message from elsewhere is a RangeError", async () => {
  const { batch } = memoryBatch(["a"]);
  const stranger = memoryBatch(["x"]).batch.at(0);
  let thrown: unknown = null;
  const { opts } = options(batchOf((_messages, ctx) => {
    try {
      ctx.ack(stranger);
    } catch (error) {
      thrown = error;
    }
  }));
  await new BatchRun(batch, opts).run();
  assert.ok(thrown instanceof RangeError);
});

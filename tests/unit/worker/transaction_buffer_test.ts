import assert from "node:assert/strict";
import type { Context } from "../../../src/worker/context.ts";
import type { Message } from "../../../src/message.ts";
import { Outputs, transactionalHandler } from "../../../src/worker/outputs.ts";
import { TransactionBuffer } from "../../../src/worker/transaction_buffer.ts";
import { encodeCommitMetadata } from "../../../src/offsets/commit_metadata.ts";

const message = (partition: number, offset: string) => ({ partition, offset }) as Message;
const values = (records: { value: unknown }[]) => records.map((r) => r.value);
const accepted = () => Promise.resolve(null);

function outputsNeverSent() {
  return new Outputs({
    topics: ["out"],
    field: "consumers[0].outputs (consumers.yaml:9)",
    send: () => Promise.reject(new Error("exactly-once sends nothing itself")),
  });
}

Deno.test("TransactionBuffer.take() returns the records of the messages below each offset, in order, once", () => {
  const buffer = new TransactionBuffer();
  buffer.add(0, "4", [{ topic: "out", value: "a" }, { topic: "out", value: "b" }]);
  buffer.add(1, "7", [{ topic: "out", value: "x" }]);
  buffer.add(0, "5", [{ topic: "out", value: "c" }]);
  assert.deepEqual(values(buffer.take([{ partition: 0, offset: "5" }])), ["a", "b"]);
  assert.equal(buffer.size, 2);
  assert.deepEqual(values(buffer.take([{ partition: 0, offset: "5" }])), []);
  buffer.discard([1]);
  assert.deepEqual(values(buffer.take([{ partition: 1, offset: "9" }])), []);
  assert.deepEqual(values(buffer.take([{ partition: 0, offset: "6" }])), ["c"]);
  assert.equal(buffer.size, 0);
});

Deno.test("transactionalHandler() keeps a call's records only when it succeeds, under its message's offset", async () => {
  const buffer = new TransactionBuffer();
  let attempt = 0;
  const handler = transactionalHandler(
    {
      kind: "message",
      fn: async (m, ctx) => {
        await ctx.produce({ topic: "out", value: `${m.offset}:${++attempt}` });
        if (attempt === 1) throw new Error("first attempt fails after producing");
      },
    },
    { outputs: outputsNeverSent(), buffer, check: accepted, bound: null },
  );
  assert(handler.kind === "message");
  await assert.rejects(Promise.resolve(handler.fn(message(0, "3"), {} as Context)), /first/);
  assert.equal(buffer.size, 0);
  await handler.fn(message(0, "3"), {} as Context);
  assert.deepEqual(values(buffer.take([{ partition: 0, offset: "3" }])), []);
  assert.deepEqual(values(buffer.take([{ partition: 0, offset: "4" }])), ["3:2"]);
});

Deno.test("transactionalHandler() fails a call that produced to a topic not in outputs, awaited or not", () => {
  const buffer = new TransactionBuffer();
  const handler = transactionalHandler(
    {
      kind: "message",
      fn: (_m, ctx) => {
        void ctx.produce({ topic: "out", value: "kept?" });
        ctx.produce({ topic: "elsewhere", value: "v" }).catch(() => {});
      },
    },
    { outputs: outputsNeverSent(), buffer, check: accepted, bound: null },
  );
  assert(handler.kind === "message");
  assert.throws(() => handler.fn(message(0, "0"), {} as Context), /not in consumers\[0\]\.outputs/);
  assert.equal(buffer.size, 0);
});

Deno.test("transactionalHandler() fails a call whose record the check refuses, awaited or not, and keeps nothing of it", async () => {
  const buffer = new TransactionBuffer();
  const tooLarge = new RangeError("too large");
  const handler = transactionalHandler(
    {
      kind: "message",
      fn: (_m, ctx) => {
        void ctx.produce({ topic: "out", value: "fine" });
        ctx.produce({ topic: "out", value: "huge" }).catch(() => {});
      },
    },
    {
      outputs: outputsNeverSent(),
      buffer,
      check: (record) => Promise.resolve(record.value === "huge" ? tooLarge : null),
      bound: null,
    },
  );
  assert(handler.kind === "message");
  await assert.rejects(Promise.resolve(handler.fn(message(0, "0"), {} as Context)), tooLarge);
  assert.equal(buffer.size, 0);
});

Deno.test("transactionalHandler(): a batch call finishes as a whole; a failed one leaves nothing, its acks included", async () => {
  const buffer = new TransactionBuffer();
  const acked: string[] = [];
  let attempt = 0;
  const handler = transactionalHandler(
    {
      kind: "batch",
      fn: async (messages, ctx) => {
        attempt++;
        for (const m of messages) {
          await ctx.produce({ topic: "out", value: `${m.offset}:${attempt}` });
        }
        ctx.ack(messages[0]!); // records for both messages exist already: the ack cannot split them
        if (attempt === 1) throw new Error("the side effect of the second message failed");
      },
    },
    { outputs: outputsNeverSent(), buffer, check: accepted, bound: null },
  );
  assert(handler.kind === "batch");
  const ctx = { ack: (m: Message) => acked.push(m.offset) } as unknown as Context;
  const batch = [message(2, "10"), message(2, "11")];
  await assert.rejects(Promise.resolve(handler.fn(batch, ctx)), /second message/);
  assert.deepEqual(acked, [], "the runner retries the whole batch");
  assert.equal(buffer.size, 0);
  await handler.fn(batch, ctx);
  assert.deepEqual(values(buffer.take([{ partition: 2, offset: "12" }])), ["10:2", "11:2"]);
});

Deno.test("TransactionBuffer.take() also returns the records of the finished offsets its metadata lists beyond the offset", () => {
  const buffer = new TransactionBuffer();
  buffer.add(0, "10", [{ topic: "out", value: "10: unfinished at the commit" }]);
  buffer.add(0, "11", [{ topic: "out", value: "11" }]);
  buffer.add(0, "12", [{ topic: "out", value: "12: not listed" }]);
  buffer.add(0, "14", [{ topic: "out", value: "14" }]);
  buffer.add(0, "9", [{ topic: "out", value: "9" }]);
  const { metadata } = encodeCommitMetadata("10", ["11", "14"]);
  assert.deepEqual(values(buffer.take([{ partition: 0, offset: "10", metadata }])), [
    "11",
    "14",
    "9",
  ]);
  // Metadata written for another offset lists nothing.
  assert.deepEqual(values(buffer.take([{ partition: 0, offset: "11", metadata }])), [
    "10: unfinished at the commit",
  ]);
  assert.equal(buffer.size, 1);
});

Deno.test("TransactionBuffer.bytes counts the key, value and header bytes that wait, until taken or discarded", () => {
  const buffer = new TransactionBuffer();
  buffer.add(0, "1", [{ topic: "out", key: "k", value: "abc" }]);
  buffer.add(1, "1", [{ topic: "out", value: "12345", headers: { h: "v" } }]);
  assert.equal(buffer.bytes, 4 + 7);
  buffer.take([{ partition: 0, offset: "2" }]);
  assert.equal(buffer.bytes, 7);
  buffer.discard([1]);
  assert.equal(buffer.bytes, 0);
});

Deno.test("transactionalHandler() with a bound fails the produce that would pass it, naming the field", async () => {
  const buffer = new TransactionBuffer();
  buffer.add(0, "0", [{ topic: "out", value: "123456" }]);
  const handler = transactionalHandler(
    {
      kind: "message",
      fn: async (_m, ctx) => {
        await ctx.produce({ topic: "out", value: "12" });
        await ctx.produce({ topic: "out", value: "123" }); // 6 + 2 + 3 > 10
      },
    },
    {
      outputs: outputsNeverSent(),
      buffer,
      check: accepted,
      bound: { bytes: 10, field: "commit.mode: manual (consumers[0].commit.mode)" },
    },
  );
  assert(handler.kind === "message");
  await assert.rejects(
    Promise.resolve(handler.fn(message(0, "1"), {} as Context)),
    /with commit\.mode: manual \(consumers\[0\]\.commit\.mode\): the outputs waiting for ctx\.commit\(\) \(8 bytes\) would pass 10 bytes/,
  );
  assert.equal(buffer.bytes, 6, "the failed call left nothing");
});

Deno.test("TransactionBuffer.take() finds the records below an offset after a reset to a lower one", () => {
  const buffer = new TransactionBuffer();
  buffer.add(0, "150", [{ topic: "out", value: "before the reset" }]);
  buffer.add(0, "60", [{ topic: "out", value: "after the reset" }]);
  assert.deepEqual(values(buffer.take([{ partition: 0, offset: "100" }])), ["after the reset"]);
  assert.equal(buffer.size, 1);
});

Deno.test("transactionalHandler(): a call that outlived its partition's reading (lost and read again while it ran) adds nothing; the next reading's call does", async () => {
  const buffer = new TransactionBuffer();
  let reading = 0;
  let release = () => {};
  const held = new Promise<void>((resolve) => (release = resolve));
  const handler = transactionalHandler(
    {
      kind: "message",
      fn: async (m, ctx) => {
        const at = reading;
        if (at === 0) await held; // the first reading's call hangs
        await ctx.produce({ topic: "out", value: `${m.offset}@${at}` });
      },
    },
    { outputs: outputsNeverSent(), buffer, check: accepted, bound: null },
  );
  assert(handler.kind === "message");
  const stale = Promise.resolve(handler.fn(message(0, "5"), {} as Context));
  buffer.discard([0]); // the partition is lost (a fenced member), then assigned again
  reading++;
  await handler.fn(message(0, "5"), {} as Context); // its next reading handles 5 again
  release();
  await stale; // the first call ends late: it succeeded, but its reading is over
  assert.deepEqual(values(buffer.take([{ partition: 0, offset: "6" }])), ["5@1"]);
  assert.equal(buffer.size, 0);
});

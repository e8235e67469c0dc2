import assert from "node:assert/strict";
import type { Context } from "../../../src/worker/context.ts";
import type { Message } from "../../../src/message.ts";
import { Outputs, transactionalHandler } from "../../../src/worker/outputs.ts";
import { TransactionBuffer } from "../../../src/worker/transaction_buffer.ts";

const message = (partition: number, offset: string) => ({ partition, offset }) as Message;
const values = (records: { value: unknown }[]) => records.map((r) => r.value);

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
    outputsNeverSent(),
    buffer,
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
    outputsNeverSent(),
    buffer,
  );
  assert(handler.kind === "message");
  assert.throws(() => handler.fn(message(0, "0"), {} as Context), /not in consumers\[0\]\.outputs/);
  assert.equal(buffer.size, 0);
});

Deno.test("transactionalHandler() files a batch call's records under each acked message, the rest under the last", async () => {
  const buffer = new TransactionBuffer();
  const acked: string[] = [];
  const handler = transactionalHandler(
    {
      kind: "batch",
      fn: async (messages, ctx) => {
        await ctx.produce({ topic: "out", value: "first" });
        ctx.ack(messages[0]!);
        await ctx.produce({ topic: "out", value: "rest" });
      },
    },
    outputsNeverSent(),
    buffer,
  );
  assert(handler.kind === "batch");
  const ctx = { ack: (m: Message) => acked.push(m.offset) } as unknown as Context;
  await handler.fn([message(2, "10"), message(2, "11")], ctx);
  assert.deepEqual(acked, ["10"]);
  assert.deepEqual(values(buffer.take([{ partition: 2, offset: "11" }])), ["first"]);
  assert.deepEqual(values(buffer.take([{ partition: 2, offset: "12" }])), ["rest"]);
});

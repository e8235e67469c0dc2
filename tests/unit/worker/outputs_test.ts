import assert from "node:assert/strict";
import type { Context } from "../../../src/worker/context.ts";
import type { Message } from "../../../src/message.ts";
import type { ProduceRecord } from "../../../src/produce_record.ts";
import {
  OutputNotAllowedError,
  Outputs,
  outputsField,
  producingHandler,
} from "../../../src/worker/outputs.ts";

/** Outputs whose sends wait until the test acknowledges or fails them. */
function pendingOutputs(topics = ["out"]) {
  const sent: Array<{ record: ProduceRecord; ack(): void; fail(e: Error): void }> = [];
  const outputs = new Outputs({
    topics,
    field: "consumers[0].outputs (consumers.yaml:9)",
    send: (record) =>
      new Promise<void>((resolve, reject) => sent.push({ record, ack: resolve, fail: reject })),
  });
  return { outputs, sent };
}

/** The wrapped function of a per-message handler. */
function each(fn: (m: Message, ctx: Context) => unknown, outputs: Outputs) {
  const handler = producingHandler({ kind: "message", fn }, outputs);
  if (handler.kind !== "message") throw new Error("not a per-message handler");
  return handler.fn;
}

const message = (offset: string) => ({ offset, partition: 0 }) as Message;
const turn = () => new Promise((resolve) => setTimeout(resolve, 0));

Deno.test("Outputs.produce() rejects a topic not in outputs with OutputNotAllowedError naming the field", async () => {
  const { outputs, sent } = pendingOutputs(["a", "b"]);
  await assert.rejects(outputs.produce({ topic: "c", value: "v" }), (error: unknown) => {
    assert(error instanceof OutputNotAllowedError);
    assert.equal(
      error.message,
      'Cannot produce to topic "c": it is not in consumers[0].outputs (consumers.yaml:9), ' +
        'which lists "a", "b"; add it there to let the handler produce to it',
    );
    return true;
  });
  await assert.rejects(outputs.produce({ topic: "a", value: "v", partition: -1 }), RangeError);
  await assert.rejects(outputs.produce({ topic: "a" } as ProduceRecord), /without a value/);
  assert.equal(sent.length, 0);
});

Deno.test("Outputs.produce() rejects a key, value or header that is neither text nor bytes, naming the field; nothing is sent", async () => {
  const { outputs, sent } = pendingOutputs(["out"]);
  const bad: Array<[unknown, RegExp]> = [
    [
      { topic: "out", value: { id: 1 } },
      /value must be a string, a Uint8Array or null: current value is \[object Object\]/,
    ],
    [{ topic: "out", value: new ArrayBuffer(2) }, /value must be a string, a Uint8Array or null/],
    [
      { topic: "out", value: "v", key: 7 },
      /key must be a string, a Uint8Array, null or left out: current value is 7/,
    ],
    [
      { topic: "out", value: "v", headers: { h: 1 } },
      /header "h" must be a string, a Uint8Array or a list of them: current value is 1/,
    ],
    [
      { topic: "out", value: "v", headers: { h: ["a", null] } },
      /header "h" must be a string, a Uint8Array or a list of them/,
    ],
    [
      { topic: "out", value: "v", headers: "h" },
      /headers must be an object of header names: current value is h/,
    ],
  ];
  for (const [record, message] of bad) {
    await assert.rejects(outputs.produce(record as ProduceRecord), (error: unknown) => {
      assert(error instanceof TypeError, String(error));
      assert.match(error.message, /^Cannot produce to topic "out" as /);
      assert.match(error.message, message);
      return true;
    });
  }
  assert.equal(sent.length, 0);
  // What is allowed still goes: text, bytes, a tombstone, repeated and absent headers.
  void outputs.produce({ topic: "out", key: null, value: null });
  void outputs.produce({
    topic: "out",
    key: new Uint8Array([1]),
    value: "v",
    headers: { a: ["1", new Uint8Array([2])], b: undefined },
  });
  assert.equal(sent.length, 2);
});

Deno.test("producingHandler() ends a call only once every record it produced was acknowledged", async () => {
  const { outputs, sent } = pendingOutputs();
  const handle = each((_m, ctx) => {
    void ctx.produce({ topic: "out", value: "1" }); // not awaited by the handler
    void ctx.produce({ topic: "out", value: "2" });
  }, outputs);
  let ended = false;
  const call = Promise.resolve(handle(message("0"), {} as Context) as Promise<void>)
    .then(() => (ended = true));
  await turn();
  assert.equal(sent.length, 2);
  sent[0]!.ack();
  await turn();
  assert.equal(ended, false, "one record still unacknowledged");
  sent[1]!.ack();
  await call;
  assert.equal(ended, true);
});

Deno.test("producingHandler() fails the call when a record fails, even one the handler did not await", async () => {
  const { outputs, sent } = pendingOutputs();
  const handle = each((_m, ctx) => void ctx.produce({ topic: "out", value: "1" }), outputs);
  const call = handle(message("0"), {} as Context) as Promise<void>;
  sent[0]!.fail(new Error("broker said no"));
  await assert.rejects(call, /broker said no/);
});

Deno.test("producingHandler() leaves a synchronous call that produced nothing synchronous", () => {
  const { outputs } = pendingOutputs();
  assert.equal(each(() => 7, outputs)(message("0"), {} as Context), 7);
});

Deno.test("producingHandler() refuses a produce after its call ended", async () => {
  const { outputs } = pendingOutputs();
  let kept: Context | null = null;
  each((_m, ctx) => void (kept = ctx), outputs)(message("0"), {} as Context);
  await assert.rejects(kept!.produce({ topic: "out", value: "late" }), /after the handler call/);
});

Deno.test("producingHandler() applies a batch handler's ack once the records before it were acknowledged, never when one failed", async () => {
  const { outputs, sent } = pendingOutputs();
  const acked: string[] = [];
  const handler = producingHandler({
    kind: "batch",
    fn: (messages, ctx) => {
      for (const m of messages) {
        void ctx.produce({ topic: "out", value: m.offset });
        ctx.ack(m);
      }
    },
  }, outputs);
  const ctx = { ack: (m: Message) => acked.push(m.offset) } as unknown as Context;
  if (handler.kind !== "batch") throw new Error("not a batch handler");
  const call = handler.fn([message("0"), message("1")], ctx) as Promise<void>;
  await turn();
  assert.deepEqual(acked, [], "nothing acknowledged yet");
  sent[0]!.ack();
  await turn();
  assert.deepEqual(acked, ["0"]);
  sent[1]!.fail(new Error("lost"));
  await assert.rejects(call, /lost/);
  assert.deepEqual(acked, ["0"], "the message whose record failed is not acked");
});

Deno.test("outputsField() names the list where it is written, else where it would go", () => {
  const place = { index: 2, name: "c", file: "c.yaml", line: 14, permissions: {} };
  const source = { file: "c.yaml", topicLine: 15, handlerLine: 16 };
  assert.equal(outputsField("c", { ...source, place }), "consumers[2].outputs (c.yaml:14)");
  assert.equal(
    outputsField("c", {
      ...source,
      place: { ...place, outputs: { path: "defaults.outputs", line: 3 } },
    }),
    "defaults.outputs (c.yaml:3)",
  );
  assert.equal(outputsField("c", undefined), 'the outputs of consumer "c"');
});

import assert from "node:assert/strict";
import { FrameSplitter, requestHeader, responseCorrelationId } from "../../harness/kafka_frames.ts";

/** A request frame: size, API key, version, correlation id, client id, then `body` bytes. */
function request(
  apiKey: number,
  version: number,
  correlationId: number,
  clientId: string | null,
  body = 3,
) {
  const id = clientId === null ? new Uint8Array(0) : new TextEncoder().encode(clientId);
  const frame = new Uint8Array(4 + 10 + id.length + body);
  const view = new DataView(frame.buffer);
  view.setInt32(0, frame.length - 4);
  view.setInt16(4, apiKey);
  view.setInt16(6, version);
  view.setInt32(8, correlationId);
  view.setInt16(12, clientId === null ? -1 : id.length);
  frame.set(id, 14);
  frame.fill(0xab, 14 + id.length);
  return frame;
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

Deno.test("FrameSplitter returns whole frames however the stream is cut, and keeps the rest", () => {
  const a = request(1, 17, 7, "client-a");
  const b = request(8, 9, 8, null, 40);
  const stream = concat(a, b);
  for (let cut1 = 0; cut1 <= stream.length; cut1++) {
    for (const cut2 of [cut1, Math.min(stream.length, cut1 + 3), stream.length]) {
      const splitter = new FrameSplitter();
      const frames = [
        ...splitter.push(stream.subarray(0, cut1)),
        ...splitter.push(stream.subarray(cut1, cut2)),
        ...splitter.push(stream.subarray(cut2)),
      ];
      assert.deepEqual(frames, [a, b], `cut at ${cut1} and ${cut2}`);
    }
  }
});

Deno.test("FrameSplitter returns nothing until a frame is complete", () => {
  const splitter = new FrameSplitter();
  const frame = request(1, 4, 1, "c");
  assert.deepEqual(splitter.push(frame.subarray(0, frame.length - 1)), []);
  assert.deepEqual(splitter.push(frame.subarray(frame.length - 1)), [frame]);
  assert.deepEqual(splitter.push(new Uint8Array(0)), []);
});

Deno.test("FrameSplitter rejects a negative size, naming it", () => {
  const bad = new Uint8Array(8);
  new DataView(bad.buffer).setInt32(0, -5);
  assert.throws(() => new FrameSplitter().push(bad), /size -5/);
});

Deno.test("requestHeader() reads the API key, version, correlation id and client id", () => {
  assert.deepEqual(requestHeader(request(8, 9, 123456, "consumerd-test-x")), {
    apiKey: 8,
    apiVersion: 9,
    correlationId: 123456,
    clientId: "consumerd-test-x",
  });
  assert.equal(requestHeader(request(1, 17, -2, null)).clientId, null);
  assert.throws(() => requestHeader(new Uint8Array(10)), /10 bytes/);
  const short = request(1, 1, 1, "abcdef", 0).subarray(0, 16);
  assert.throws(() => requestHeader(short), /client id of 6 bytes from 2/);
});

Deno.test("responseCorrelationId() reads the id after the size", () => {
  const frame = new Uint8Array(12);
  new DataView(frame.buffer).setInt32(0, 8);
  new DataView(frame.buffer).setInt32(4, 99);
  assert.equal(responseCorrelationId(frame), 99);
  assert.throws(() => responseCorrelationId(new Uint8Array(6)), /6 bytes/);
});

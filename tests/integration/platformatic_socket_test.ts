/**
 * The socket @platformatic/kafka's Connection gets on Deno in the worker bundle
 * (src/kafka/platformatic/deno_socket.ts), against real loopback TCP servers: what it must
 * keep of a node `net.Socket` for the library — back-pressure and `drain`, the order of
 * `error`/`end`/`close` when either side closes, a refused connection, the connect timeout.
 */
import assert from "node:assert/strict";
import { readAll, withLoopbackServer } from "../harness/loopback.ts";
import {
  createConnection,
  HIGH_WATER_MARK,
  type LibrarySocket,
} from "../../src/kafka/platformatic/deno_socket.ts";

/** A socket to `port` with every event it emits recorded in order. */
function open(port: number, timeout?: number) {
  const events: string[] = [];
  const errors: Error[] = [];
  const data: Uint8Array[] = [];
  const socket: LibrarySocket = createConnection({
    host: "127.0.0.1",
    port,
    ...(timeout === undefined ? {} : { timeout }),
  });
  const closed = new Promise<void>((resolve) => socket.once("close", () => resolve()));
  for (const event of ["connect", "end", "drain", "timeout", "close"]) {
    socket.on(event, () => events.push(event));
  }
  socket.on("error", (error: Error) => {
    events.push("error");
    errors.push(error);
  });
  socket.on("data", (chunk: Uint8Array) => data.push(chunk));
  const connected = new Promise<void>((resolve) => socket.once("connect", () => resolve()));
  return { socket, events, errors, data, closed, connected };
}

function pattern(bytes: number, seed: number): Uint8Array {
  return new Uint8Array(bytes).map((_, i) => (i + seed) % 251);
}

Deno.test("platformatic socket: write() says false past the high-water mark, 'drain' follows once the peer reads, and every byte arrives in order", async () => {
  await withLoopbackServer(async (server) => {
    const accepted = server.accept();
    const { socket, events, connected, closed } = open(server.addr.port);
    await connected;
    const peer = await accepted;
    // The peer does not read yet: the kernel buffers fill and the writes queue up.
    const writes = [pattern(4 * 1024 * 1024, 1), pattern(1000, 2), pattern(1000, 3)];
    const results = writes.map((chunk) => socket.write(chunk));
    assert.deepEqual(results, [false, false, false], "queued bytes are far above the mark");
    assert.ok(writes[0]!.byteLength > HIGH_WATER_MARK);
    const drained = new Promise<void>((resolve) => socket.once("drain", () => resolve()));
    const received = readAll(peer);
    await drained;
    assert.equal(events.filter((e) => e === "drain").length, 1);
    assert.equal(socket.write(new Uint8Array(10)), true, "after drain, a small write fits");
    socket.destroySoon();
    await closed;
    const bytes = await received;
    const expected = [...writes, new Uint8Array(10)];
    assert.equal(bytes.byteLength, expected.reduce((n, c) => n + c.byteLength, 0));
    let at = 0;
    for (const chunk of expected) {
      assert.deepEqual(bytes.subarray(at, at + chunk.byteLength), chunk);
      at += chunk.byteLength;
    }
    assert.deepEqual(events, ["connect", "drain", "close"]);
  });
});

Deno.test("platformatic socket: data arrives as Buffers of their own; a peer that closes gives 'end' then one 'close', no error", async () => {
  await withLoopbackServer(async (server) => {
    const accepted = server.accept();
    const { socket, events, errors, data, connected, closed } = open(server.addr.port);
    await connected;
    const peer = await accepted;
    await peer.write(new Uint8Array([1, 2, 3]));
    while (data.length === 0) await new Promise((r) => setTimeout(r, 5));
    await peer.write(new Uint8Array([4, 5]));
    peer.close();
    await closed;
    assert.deepEqual(events, ["connect", "end", "close"]);
    assert.deepEqual(errors, []);
    const all = data.flatMap((chunk) => [...chunk]);
    assert.deepEqual(all, [1, 2, 3, 4, 5]);
    assert.ok(
      data.every((chunk) => typeof (chunk as { readInt32BE?: unknown }).readInt32BE === "function"),
    );
    assert.equal(socket.write(new Uint8Array([1])), false, "no write after the connection ended");
  });
});

Deno.test("platformatic socket: destroy(error) reports the error, then one 'close'; the peer sees the connection end", async () => {
  await withLoopbackServer(async (server) => {
    const accepted = server.accept();
    const { socket, events, errors, connected, closed } = open(server.addr.port);
    await connected;
    const peer = await accepted;
    const failure = new Error("unexpected correlation id");
    socket.destroy(failure);
    socket.destroy(new Error("a second destroy is ignored"));
    await closed;
    assert.deepEqual(events, ["connect", "error", "close"]);
    assert.deepEqual(errors, [failure]);
    assert.equal(await peer.read(new Uint8Array(8)), null, "the peer reads the end");
    peer.close();
  });
});

Deno.test("platformatic socket: a refused connection is one error with node's ECONNREFUSED, then 'close', and never 'connect'", async () => {
  const server = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = server.addr.port;
  server.close();
  const { events, errors, closed } = open(port);
  await closed;
  assert.deepEqual(events, ["error", "close"]);
  assert.equal((errors[0] as { code?: string }).code, "ECONNREFUSED");
});

Deno.test("platformatic socket: 'timeout' after the connect timeout of silence; setTimeout(0) turns it off", async () => {
  await withLoopbackServer(async (server) => {
    const accepted = server.accept();
    const { socket, events, connected } = open(server.addr.port, 100);
    await connected;
    const peer = await accepted;
    await new Promise<void>((resolve) => socket.once("timeout", () => resolve()));
    assert.deepEqual(events, ["connect", "timeout"]);
    socket.setTimeout(0);
    socket.setTimeout(50);
    socket.setTimeout(0);
    await new Promise((r) => setTimeout(r, 150));
    assert.deepEqual(events, ["connect", "timeout"], "no timeout once turned off");
    socket.destroy();
    peer.close();
  });
});

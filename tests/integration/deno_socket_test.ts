/**
 * The socket kafkajs gets on Deno (src/kafka/kafkajs/deno_socket.ts), against real
 * loopback TCP servers: what it must keep of node:net's behaviour.
 */
import assert from "node:assert/strict";
import { readAll, withLoopbackServer } from "../harness/loopback.ts";
import {
  denoSocketFactory,
  errorCode,
  type KafkaSocket,
} from "../../src/kafka/kafkajs/deno_socket.ts";

const connect = denoSocketFactory((bytes) => bytes.slice());

/** Connects to `port`, recording every event. */
function open(port: number) {
  const events: string[] = [];
  const data: Uint8Array[] = [];
  const errors: Error[] = [];
  let connected!: () => void;
  const ready = new Promise<void>((resolve) => (connected = resolve));
  const socket: KafkaSocket = connect({
    host: "127.0.0.1",
    port,
    onConnect: () => {
      events.push("connect");
      connected();
    },
  });
  socket.on("data", (chunk) => data.push(chunk));
  socket.on("end", () => events.push("end"));
  socket.on("error", (error) => {
    events.push("error");
    errors.push(error);
  });
  return { socket, events, data, errors, ready };
}

Deno.test("DenoSocket: every write made before end() arrives, in order, before the connection closes", async () => {
  await withLoopbackServer(async (server) => {
    const received = server.accept().then(readAll);
    const { socket, ready } = open(server.addr.port);
    await ready;
    const big = new Uint8Array(4 * 1024 * 1024).map((_, i) => i % 251);
    socket.write(big);
    socket.write(new Uint8Array(1000).fill(1));
    socket.write(new Uint8Array(1000).fill(2));
    socket.end();
    assert.equal(socket.write(new Uint8Array([9])), false, "no write after end()");
    const bytes = await received;
    assert.equal(bytes.byteLength, big.byteLength + 2000);
    assert.deepEqual(bytes.subarray(0, big.byteLength), big);
    assert.ok(bytes.subarray(big.byteLength, big.byteLength + 1000).every((b) => b === 1));
    assert.ok(bytes.subarray(big.byteLength + 1000).every((b) => b === 2));
  });
});

Deno.test("DenoSocket: data arrives; the peer closing is one 'end', and later writes report nothing", async () => {
  await withLoopbackServer(async (server) => {
    const accepted = server.accept();
    const { socket, events, data, ready } = open(server.addr.port);
    await ready;
    const peer = await accepted;
    await peer.write(new TextEncoder().encode("hello"));
    while (data.length === 0) await new Promise((r) => setTimeout(r, 5));
    peer.close();
    while (!events.includes("end")) await new Promise((r) => setTimeout(r, 5));
    for (let i = 0; i < 5; i++) socket.write(new Uint8Array(64 * 1024));
    await new Promise((r) => setTimeout(r, 200));
    assert.deepEqual(events, ["connect", "end"]);
    assert.equal(new TextDecoder().decode(data[0]), "hello");
    socket.end();
  });
});

Deno.test("DenoSocket: end() before the connection is made: never connects, reports nothing", async () => {
  await withLoopbackServer(async (server) => {
    const closedByClient = server.accept().then(readAll);
    const { socket, events } = open(server.addr.port);
    socket.end();
    assert.equal((await closedByClient).byteLength, 0, "the server saw the connection closed");
    await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(events, []);
  });
});

Deno.test("DenoSocket: a refused connection is one error with node's code", async () => {
  const server = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = server.addr;
  server.close();
  const { events, errors } = open(port);
  while (events.length === 0) await new Promise((r) => setTimeout(r, 5));
  await new Promise((r) => setTimeout(r, 50));
  assert.deepEqual(events, ["error"]);
  assert.equal((errors[0] as Error & { code?: string }).code, "ECONNREFUSED");
});

Deno.test("errorCode: name lookup failures get node's codes", () => {
  const lookup = (detail: string) => new Error(`failed to lookup address information: ${detail}`);
  assert.equal(errorCode(lookup("Name or service not known")), "ENOTFOUND");
  assert.equal(errorCode(lookup("Temporary failure in name resolution")), "EAI_AGAIN");
  assert.equal(errorCode(Object.assign(new Error("x"), { code: "ECONNRESET" })), "ECONNRESET");
  assert.equal(errorCode(new Error("something else")), undefined);
});

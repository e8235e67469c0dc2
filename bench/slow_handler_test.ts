import assert from "node:assert/strict";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { slowConsumerFields, slowHandlerSource } from "./daemon_client.ts";
import { idealRate } from "./report.ts";
import { BUN } from "./runtimes.ts";
import { listeningPort, startWaitService } from "./wait_service.ts";
import { doneTimeoutMs } from "./client.ts";
import {
  expectedMessages,
  orderingSupport,
  SLOW_TOPIC,
  slowClients,
  slowTopicName,
  timerFloorMs,
} from "./slow_handler.ts";

Deno.test("expectedMessages() sizes a row for its reachable rate over the window, capped by the topic", () => {
  const topic = { windowS: 8, available: 120_000 };
  // key and none: concurrency / 20 ms.
  assert.equal(expectedMessages({ ordering: "key", concurrency: 16 }, topic), 6_400);
  assert.equal(expectedMessages({ ordering: "none", concurrency: 256 }, topic), 102_400);
  // partition: one call per partition at most, whatever the concurrency.
  assert.equal(expectedMessages({ ordering: "partition", concurrency: 256 }, topic), 1_200);
  assert.equal(expectedMessages({ ordering: "partition", concurrency: 2 }, topic), 800);
  assert.equal(
    expectedMessages({ ordering: "none", concurrency: 256 }, { windowS: 60, available: 120_000 }),
    120_000,
  );
  assert.equal(idealRate(256, 20), 12_800);
});

Deno.test("the slow-handler topic holds every row's count", () => {
  for (const concurrency of [16, 64, 256]) {
    const settings = { ordering: "none" as const, concurrency };
    assert.ok(idealRate(concurrency, 20) * 8 <= SLOW_TOPIC.count, `concurrency ${concurrency}`);
    assert.equal(
      expectedMessages(settings, { windowS: 8, available: SLOW_TOPIC.count }),
      idealRate(concurrency, 20) * 8,
    );
  }
  assert.equal(slowTopicName(SLOW_TOPIC), "bench-slow-100b-120000-k3000");
});

Deno.test("slowConsumerFields() leaves ordering partition out, so that today's builds accept it, and grants the wait service", () => {
  const net = { net: ["127.0.0.1:40123"] };
  assert.deepEqual(slowConsumerFields({ ordering: "partition", concurrency: 16 }, 40123), {
    concurrency: 16,
    permissions: net,
  });
  assert.deepEqual(slowConsumerFields({ ordering: "key", concurrency: 64 }, 40123), {
    concurrency: 64,
    ordering: "key",
    permissions: net,
  });
});

/** Calls a generated slow handler three times at once; prints its log as JSON lines. */
const CALL_THREE = `
const handle = (await import(process.argv[2])).default;
const log = { info: (message, fields) => console.log(JSON.stringify({ message, fields })) };
const value = new Uint8Array(10);
await Promise.all([handle({ value }, { log }), handle({ value }, { log }), handle({ value: null }, { log })]);
// The handler keeps its connections open for the next calls (a worker ends with them).
process.exit(0);
`;

Deno.test("slowHandlerSource() calls the wait service per call, then counts; marks the first start and the last end (Deno and Bun)", async () => {
  const dir = await Deno.makeTempDir();
  const service = await startWaitService();
  try {
    const handler = join(dir, "handler.ts");
    const caller = join(dir, "call_three.mjs");
    await Deno.writeTextFile(handler, slowHandlerSource(3, { waitMs: 30, port: service.port }));
    await Deno.writeTextFile(caller, CALL_THREE);
    for (const runtime of ["deno", "bun"] as const) {
      const [command, args] = runtime === "deno"
        ? [Deno.execPath(), ["run", "-A", caller, pathToFileURL(handler).href]]
        : [BUN, [caller, pathToFileURL(handler).href]];
      const began = performance.now();
      const out = await new Deno.Command(command, {
        args,
        stdout: "piped",
        stderr: "piped",
        signal: AbortSignal.timeout(60_000),
      }).output();
      const took = performance.now() - began;
      const stdout = new TextDecoder().decode(out.stdout);
      assert.ok(out.success, `${runtime}: ${stdout}${new TextDecoder().decode(out.stderr)}`);
      const logged = stdout.trim().split("\n").map((l) => JSON.parse(l));
      assert.deepEqual(logged.map((l) => l.message), ["bench-first", "bench-done"], runtime);
      const done = logged[1].fields;
      assert.equal(done.messages, 3, runtime);
      assert.equal(done.bytes, 20, runtime);
      // Three calls at once, on three connections: they overlap and end after one wait.
      assert.ok(done.elapsedMs >= 29, `${runtime}: elapsedMs ${done.elapsedMs}`);
      assert.ok(done.elapsedMs < took, `${runtime}: elapsedMs ${done.elapsedMs} ≥ ${took}`);
    }
  } finally {
    await service.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("listeningPort() reads the wait service's first line", () => {
  assert.equal(listeningPort("listening 40123\n"), 40123);
  assert.equal(listeningPort("listening 0"), null);
  assert.equal(listeningPort("wait-server: listen tcp: address already in use"), null);
});

Deno.test("orderingSupport() passes the partition rows' config through check, and reports key as accepted or why not", async () => {
  assert.equal(await orderingSupport("partition", ["127.0.0.1:9092"]), null);
  const key = await orderingSupport("key", ["127.0.0.1:9092"]);
  assert.ok(key === null || key.startsWith("consumers[0].ordering:"), String(key));
});

Deno.test("slowClients() pairs the Parallel Consumer and consumerd for each concurrency and ordering", () => {
  const clients = slowClients({
    brokers: ["127.0.0.1:9092"],
    orderings: ["partition", "key"],
    concurrency: [16, 256],
    windowS: 8,
    available: 120_000,
    servicePort: () => 40123,
  });
  assert.deepEqual(clients.map((c) => c.label), [
    "PC java slow PARTITION c16",
    "R deno kafkajs slow partition c16",
    "PC java slow KEY c16",
    "R deno kafkajs slow key c16",
    "PC java slow PARTITION c256",
    "R deno kafkajs slow partition c256",
    "PC java slow KEY c256",
    "R deno kafkajs slow key c256",
  ]);
  assert.deepEqual(clients[3]!.slow, { ordering: "key", concurrency: 16 });
  const both = slowClients({
    brokers: ["127.0.0.1:9092"],
    orderings: ["key"],
    concurrency: [64],
    windowS: 8,
    available: 120_000,
    runtimes: ["deno", "bun"],
    servicePort: () => 40123,
  });
  assert.deepEqual(both.map((c) => c.label), [
    "PC java slow KEY c64",
    "R deno kafkajs slow key c64",
    "R bun kafkajs slow key c64",
  ]);
});

Deno.test("timerFloorMs() measures a 20 ms setTimeout at 20 ms or a little more", async () => {
  for (const runtime of ["deno", "bun"] as const) {
    const ms = await timerFloorMs(runtime);
    assert.ok(ms >= 19.9 && ms < 30, `${runtime}: ${ms} ms`);
  }
});

Deno.test("doneTimeoutMs() allows a slow row down to its own floor, the others down to 5,000 msg/s", () => {
  const topic = { topic: "t", recordBytes: 100, count: 1_200, created: false };
  assert.equal(doneTimeoutMs(topic), 30_240);
  assert.equal(doneTimeoutMs({ ...topic, minRate: 15 }), 110_000);
});

/**
 * The worker bundle as `deno task build` writes it (and the image runs it):
 * a daemon started from a package that holds a fresh bundle starts its
 * workers from it, on Deno and Bun, with either engine, and each client
 * library inside it still has every built-in module it needs. Gzip-compressed
 * records are the case to prove: the bundle hands kafkajs `zlib` only when
 * a compressed batch first arrives (src/worker/bundle_require.ts), kafkajs's
 * plaintext connections on Deno go through Deno's own TCP API
 * (src/kafka/kafkajs/deno_socket.ts) as @platformatic/kafka's do
 * (src/kafka/platformatic/deno_socket.ts), and @platformatic/kafka's CommonJS
 * dependencies get real built-in modules from the bundle's `require`.
 * Records compressed with lz4 and snappy go through the bundle's own
 * loader of @platformatic/wasm-utils's codecs (src/worker/platformatic_wasm.ts)
 * on the platformatic engine.
 *
 * `delivery: exactly-once` is the other case: its transactions are the only
 * records @platformatic/kafka writes, and each batch carries a CRC-32C the
 * broker checks (the library computes it natively when it can load
 * `@node-rs/crc32`, which a Deno worker, without ffi, cannot; else in
 * WebAssembly, the same loader's).
 */
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { join } from "node:path";
import { CompressionTypes } from "kafkajs";
import { Producer } from "@platformatic/kafka";
import { createKafka } from "../../src/kafka/kafkajs/client.ts";
import {
  daemonCommand,
  fixtureHandler,
  RUNTIMES,
  spawnDaemon,
  writeConsumersConfig,
} from "../harness/daemon.ts";
import { packageWithBundle } from "../harness/bundle.ts";
import { readValues } from "../harness/read_topic.ts";
import { minifiedChunk } from "../../scripts/build.ts";
import { ENGINES, TEST_KAFKA, uniqueName, waitFor, withTopic } from "../harness/kafka.ts";

Deno.test("workers started from the bundle consume gzip-, lz4- and snappy-compressed records, on Deno and Bun, with each engine", async (t) => {
  const pkg = await packageWithBundle();
  try {
    // kafkajs's CommonJS module functions are parenthesized, so that they are in the code
    // cache; every other chunk is minified; the library's sockets come from platformatic_net.js.
    let wrapped = 0;
    let library = 0;
    for await (const entry of Deno.readDir(join(pkg, "dist", "worker"))) {
      if (!entry.name.endsWith(".js")) continue;
      const chunk = await Deno.readTextFile(join(pkg, "dist", "worker", entry.name));
      if (minifiedChunk(chunk)) {
        assert.ok(chunk.split("\n").length < 200, `${entry.name} is minified`);
      } else {
        assert.doesNotMatch(chunk, /__commonJS\(function/, entry.name);
        wrapped += chunk.match(/= __commonJS\(\(function\(/g)?.length ?? 0;
      }
      if (!/class Connection extends TypedEventEmitter/.test(chunk)) continue;
      library++;
      assert.doesNotMatch(chunk, /from\s*"node:(net|tls)"/, entry.name);
      assert.match(chunk, /from\s*"\.\/platformatic_net\.js"/, entry.name);
    }
    assert.ok(wrapped > 300, `${wrapped} CommonJS modules parenthesized`);
    assert.equal(library, 1, "one chunk holds the library's connections");
    await withTopic({ partitions: 2 }, async ({ topic }) => {
      // kafkajs reads gzip only; the platformatic engine reads a topic with every codec.
      await withTopic({ partitions: 2 }, async ({ topic: mixed }) => {
        const producer = createKafka(TEST_KAFKA, { clientIdSuffix: "gzip" }).producer();
        await producer.connect();
        const values = Array.from({ length: 200 }, (_, i) => `gzip-${i}-${"x".repeat(i * 10)}`);
        for (const to of [topic, mixed]) {
          await producer.send({
            topic: to,
            compression: CompressionTypes.GZIP,
            messages: values.map((value) => ({ value })),
          });
        }
        await producer.disconnect();
        const mixedValues = [...values];
        const library = new Producer({
          clientId: "bundle-test",
          bootstrapBrokers: TEST_KAFKA.brokers,
        });
        for (const compression of ["lz4", "snappy"] as const) {
          const batch = Array.from(
            { length: 50 },
            (_, i) => `${compression}-${i}-${"y".repeat(i * 20)}`,
          );
          await library.send({
            messages: batch.map((value) => ({ topic: mixed, value: Buffer.from(value) })),
            compression,
          });
          mixedValues.push(...batch);
        }
        await library.close();
        for (
          const [runtime, engine] of RUNTIMES.flatMap((r) => ENGINES.map((e) => [r, e] as const))
        ) {
          const [source, expected] = engine === "platformatic"
            ? [mixed, mixedValues]
            : [topic, values];
          await t.step(`${runtime}, ${engine}`, async () => {
            const config = await writeConsumersConfig([{
              name: "c",
              group: uniqueName("g"),
              topic: source,
              engine,
              handler: fixtureHandler("record.ts"),
              autoOffsetReset: "earliest",
            }]);
            const [command, args] = daemonCommand(join(pkg, "src", "main.ts"), config, runtime);
            const daemon = spawnDaemon(command, args, { cwd: pkg });
            try {
              await waitFor(() => daemon.logged("handled").length >= expected.length, {
                timeoutMs: 60_000,
                what: `${expected.length} handled messages`,
              });
              assert.equal(daemon.logged("starting")[0]?.workers, "bundle");
              const handled = daemon.logged("handled").map((r) => String(r.value)).sort();
              assert.deepEqual(handled, [...expected].sort());
            } finally {
              daemon.kill("SIGTERM");
              assert.equal(await daemon.exited(), 0, "the daemon exits 0 on SIGTERM");
            }
          });
        }
      });
    });
  } finally {
    await Deno.remove(pkg, { recursive: true });
  }
});

Deno.test("exactly-once transactions from the bundle are accepted and commit their outputs, on Deno and Bun", async (t) => {
  const pkg = await packageWithBundle();
  try {
    for (const runtime of RUNTIMES) {
      await t.step(runtime, async () => {
        await withTopic({ partitions: 1 }, async ({ topic, admin }) => {
          const output = `${topic}.out`;
          await admin.ensureTopic(output, { partitions: 1 });
          const group = uniqueName("g");
          const values = ["a", "b", "c"];
          await admin.produce(topic, values.map((value) => ({ value, partition: 0 })));
          const config = await writeConsumersConfig([{
            name: "c",
            group,
            topic,
            engine: "platformatic",
            handler: fixtureHandler("produce_eos.ts"),
            delivery: "exactly-once",
            outputs: [output],
            settings: { output },
            commit: { mode: "auto", intervalMs: 100 },
            autoOffsetReset: "earliest",
          }]);
          const [command, args] = daemonCommand(join(pkg, "src", "main.ts"), config, runtime);
          const daemon = spawnDaemon(command, args, { cwd: pkg });
          let code = -1;
          try {
            await waitFor(async () => {
              const crashed = daemon.logged("consumer crashed")[0];
              if (crashed) throw new Error(`the worker crashed: ${crashed.error}`);
              return (await admin.committed(group, topic))[0]?.offset === String(values.length);
            }, { timeoutMs: 60_000, what: "the inputs committed in a transaction" });
            assert.equal(daemon.logged("starting")[0]?.workers, "bundle");
          } finally {
            daemon.kill("SIGTERM");
            code = await daemon.exited();
          }
          assert.equal(code, 0, "the daemon exits 0 on SIGTERM");
          assert.deepEqual(
            await readValues(output, "read_committed"),
            values.map((v) => `out:${v}`),
          );
          await admin.deleteTopics([output]);
        });
      });
    }
  } finally {
    await Deno.remove(pkg, { recursive: true });
  }
});

import assert from "node:assert/strict";
import { parseBenchArgs, parseSize } from "./options.ts";

Deno.test("parseBenchArgs() defaults to the issue's sizes, 3 runs and 1/10/50 consumers", () => {
  const options = parseBenchArgs([], {});
  assert.deepEqual(options.sizes, [
    { recordBytes: 100, count: 1_000_000, reps: 3 },
    { recordBytes: 1024, count: 300_000, reps: 3 },
  ]);
  assert.deepEqual(options.scale, [1, 10, 50]);
  assert.deepEqual(options.brokers, ["127.0.0.1:9092"]);
});

Deno.test("parseBenchArgs() --quick seeds small topics and runs each client once", () => {
  const options = parseBenchArgs(["--quick"], { KAFKA_BROKERS: "a:1,b:2" });
  assert.deepEqual(options.sizes.map((s) => [s.recordBytes, s.count, s.reps]), [
    [100, 50_000, 1],
    [1024, 20_000, 1],
  ]);
  assert.deepEqual(options.brokers, ["a:1", "b:2"]);
  assert.equal(options.quick, true);
});

Deno.test("parseSize() reads BYTESxCOUNT with optional @REPS", () => {
  assert.deepEqual(parseSize("100x1000000@2", 3), { recordBytes: 100, count: 1_000_000, reps: 2 });
  assert.deepEqual(parseSize("1024x300000", 3), { recordBytes: 1024, count: 300_000, reps: 3 });
  assert.throws(() => parseSize("100k", 3), RangeError);
  assert.throws(() => parseBenchArgs(["--reps", "0"], {}), RangeError);
  assert.throws(() => parseBenchArgs(["--bogus"], {}));
});

Deno.test("parseBenchArgs() runs the slow-handler section at 16/64/256 in every ordering by default", () => {
  const options = parseBenchArgs([], {});
  assert.equal(options.slowHandler, true);
  assert.deepEqual(options.concurrency, [16, 64, 256]);
  assert.deepEqual(options.orderings, ["partition", "key", "none"]);
  assert.deepEqual(options.slowRuntimes, ["deno", "bun"]);
  assert.equal(options.slowReps, 3);
  assert.equal(options.slowWindowS, 8);
});

Deno.test("parseBenchArgs() --quick keeps the slow-handler section to one concurrency, 2 s rows", () => {
  const options = parseBenchArgs(["--quick"], {});
  assert.equal(options.slowHandler, true);
  assert.deepEqual(options.concurrency, [64]);
  assert.equal(options.slowReps, 1);
  assert.equal(options.slowWindowS, 2);
});

Deno.test("parseBenchArgs() reads --no-slow-handler, --concurrency and --orderings", () => {
  assert.equal(parseBenchArgs(["--no-slow-handler"], {}).slowHandler, false);
  assert.equal(parseBenchArgs(["--slow-handler", "--quick"], {}).slowHandler, true);
  const options = parseBenchArgs(["--concurrency", "8, 256", "--orderings", "key,none"], {});
  assert.deepEqual(options.concurrency, [8, 256]);
  assert.deepEqual(options.orderings, ["key", "none"]);
});

Deno.test("parseBenchArgs() rejects a bad concurrency or ordering, saying which", () => {
  assert.throws(
    () => parseBenchArgs(["--concurrency", "16,300"], {}),
    (e: Error) => e instanceof RangeError && e.message.includes('"300"'),
  );
  assert.throws(() => parseBenchArgs(["--concurrency", "0"], {}), RangeError);
  assert.throws(
    () => parseBenchArgs(["--orderings", "key,random"], {}),
    (e: Error) => e instanceof RangeError && e.message.includes('"random"'),
  );
  assert.throws(() => parseBenchArgs(["--slow-handler", "--no-slow-handler"], {}), TypeError);
});

Deno.test("parseBenchArgs() reads --slow-runtimes, and rejects a runtime consumerd does not run on", () => {
  assert.deepEqual(parseBenchArgs(["--slow-runtimes", "bun"], {}).slowRuntimes, ["bun"]);
  assert.throws(
    () => parseBenchArgs(["--slow-runtimes", "deno,node"], {}),
    /Cannot use the runtime "node" in --slow-runtimes as it must be deno or bun/,
  );
});

Deno.test("parseBenchArgs() runs the consume→produce section at 100 B and 1 KiB; --quick makes it small, --no-produce skips it", () => {
  const full = parseBenchArgs([], {});
  assert.equal(full.produce, true);
  assert.deepEqual(full.produceSizes, [
    { recordBytes: 100, count: 200_000, reps: 3 },
    { recordBytes: 1024, count: 60_000, reps: 3 },
  ]);
  assert.deepEqual(parseBenchArgs(["--quick"], {}).produceSizes.map((s) => [s.count, s.reps]), [
    [20_000, 1],
    [10_000, 1],
  ]);
  assert.equal(parseBenchArgs(["--no-produce"], {}).produce, false);
  assert.deepEqual(parseBenchArgs(["--produce-sizes", "100x500@2"], {}).produceSizes, [
    { recordBytes: 100, count: 500, reps: 2 },
  ]);
  assert.throws(() => parseBenchArgs(["--produce-sizes", "100"], {}), RangeError);
});

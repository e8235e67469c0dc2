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

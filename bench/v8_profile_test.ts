import assert from "node:assert/strict";
import { areaOf, attributeTicks, inWindowMarker, normalizeV8Log } from "./v8_profile.ts";

Deno.test("normalizeV8Log() maps newer code states to the ones Node's tick processor knows", () => {
  assert.equal(
    normalizeV8Log("a,0x1,+'\nb,0x2,o+\nc,0x3,*'\nd,0x4,~"),
    "a,0x1,+\nb,0x2,+\nc,0x3,*\nd,0x4,~",
  );
});

Deno.test("areaOf() groups functions by package directory or consumerd file", () => {
  assert.equal(
    areaOf(
      "decodeRecords file:///x/node_modules/kafkajs/src/protocol/recordBatch/v0/decoder.js:92:23",
    ),
    "kafkajs protocol/",
  );
  assert.equal(
    areaOf("onBatch file:///x/src/worker/loop.ts:205:19"),
    "consumerd src/worker/loop.ts",
  );
  assert.equal(
    areaOf("slice ext:deno_node/internal/buffer.mjs:1:1"),
    "runtime JS ext:deno_node/internal/buffer.mjs",
  );
});

Deno.test("attributeTicks() counts only the window where records are decoded", () => {
  const code = [
    { name: "/deno", type: "SHARED_LIB" },
    { name: "decodeRecords file:///x/node_modules/kafkajs/src/protocol/d.js:1:1", type: "JS" },
    { name: "onBatch file:///x/src/worker/loop.ts:1:1", type: "JS" },
    { name: "start file:///x/src/main.ts:1:1", type: "JS" },
  ];
  const profile = attributeTicks({
    code,
    ticks: [
      { tm: 1, vm: 0, s: [3, 0] }, // start-up: outside
      { tm: 2, vm: 0, s: [1, 0] },
      { tm: 3, vm: 1, s: [0, 5, 2, 0] }, // GC under onBatch
      { tm: 4, vm: 0, s: [1, 0] },
      { tm: 5, vm: 0, s: [3, 0] }, // shutdown: outside
    ],
  });
  assert.equal(profile.windowed, true);
  assert.equal(profile.ticks, 3);
  assert.equal(profile.outside, 2);
  assert.deepEqual(profile.areas.map((a) => [a.name, a.ticks, a.gcTicks]), [
    ["kafkajs protocol/", 2, 0],
    ["consumerd src/worker/loop.ts", 1, 1],
  ]);
});

Deno.test("inWindowMarker() knows record decoding in both clients, and nothing else", () => {
  assert.equal(
    inWindowMarker(
      "readRecordsBatch file:///x/node_modules/@platformatic/kafka/dist/protocol/records.js:143:33",
    ),
    true,
  );
  assert.equal(
    inWindowMarker("decodeMessages file:///x/node_modules/kafkajs/src/protocol/m/decoder.js:1:1"),
    true,
  );
  assert.equal(
    inWindowMarker("#build file:///x/src/kafka/platformatic/record_batch.ts:151:111"),
    true,
  );
  assert.equal(
    inWindowMarker(
      "readVarInt file:///x/node_modules/@platformatic/kafka/dist/protocol/reader.js:1:1",
    ),
    false,
  );
});

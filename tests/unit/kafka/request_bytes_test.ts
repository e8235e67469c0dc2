import assert from "node:assert/strict";
import { partitionRequests } from "../../../src/kafka/request_bytes.ts";
import { recordBytes } from "../../../src/produce_record.ts";

Deno.test("recordBytes() counts key, value, header names and every header value, strings as UTF-8", () => {
  assert.equal(recordBytes({ topic: "t", key: "k", value: "vv", headers: { h: ["1", "2"] } }), 7);
  assert.equal(recordBytes({ topic: "t", value: "é" }), 2);
  assert.equal(recordBytes({ topic: "t", key: null, value: new Uint8Array(5) }), 5);
});

Deno.test("partitionRequests() keeps at most maxBytes per partition in a request, order kept, a larger item alone", () => {
  const item = (partition: number, bytes: number, topic = "t") => ({ topic, partition, bytes });
  const requests = partitionRequests([
    item(0, 300),
    item(1, 300),
    item(0, 200),
    item(0, 100), // 600 on partition 0: a new request
    item(1, 900), // larger than the bound: alone for partition 1
    item(0, 10, "u"), // another topic's partition 0
    item(1, 5), // after the large one: the next request
  ], 512);
  assert.deepEqual(requests.map((r) => r.map((i) => `${i.topic}${i.partition}:${i.bytes}`)), [
    ["t0:300", "t1:300", "t0:200"],
    ["t0:100", "t1:900", "u0:10"],
    ["t1:5"],
  ]);
});

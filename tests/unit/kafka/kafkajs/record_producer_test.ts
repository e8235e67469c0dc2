import assert from "node:assert/strict";
import { requestSize } from "../../../../src/kafka/kafkajs/record_producer.ts";

const records = (count: number, bytes: number) => Array.from({ length: count }, () => ({ bytes }));

Deno.test("requestSize() takes at most 1000 records, and at most about 512 KiB of them", () => {
  assert.equal(requestSize(records(5, 100)), 5);
  assert.equal(requestSize(records(3000, 10)), 1000);
  assert.equal(requestSize(records(10, 100 * 1024)), 5, "5 × 100 KiB fit, a sixth does not");
});

Deno.test("requestSize() sends a record larger than the bound alone, and never none", () => {
  assert.equal(requestSize(records(3, 2 * 1024 * 1024)), 1);
  assert.equal(requestSize([]), 0);
});

import assert from "node:assert/strict";
import { transactionRetryDelay } from "../../../../src/kafka/platformatic/transactions.ts";

Deno.test("transactionRetryDelay(): CONCURRENT_TRANSACTIONS is tried again after 10 ms, doubling up to 300; anything else after 300", () => {
  const busy = { apiId: "CONCURRENT_TRANSACTIONS" };
  // As the library nests it: MultipleErrors around the protocol error.
  const nested = { errors: [busy] };
  assert.deepEqual(
    [1, 2, 3, 4, 5, 6, 7].map((attempt) =>
      transactionRetryDelay(null, "addPartitionsToTransaction", attempt, 6, nested)
    ),
    [10, 20, 40, 80, 160, 300, 300],
  );
  assert.equal(transactionRetryDelay(null, "endTransaction", 1, 6, new Error("reset")), 300);
  assert.equal(
    transactionRetryDelay(null, "endTransaction", 1, 6, { apiId: "NOT_COORDINATOR" }),
    300,
  );
});

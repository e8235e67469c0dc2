import assert from "node:assert/strict";
import { handlerOf } from "../../../src/worker/handler.ts";

const each = () => {};
const batch = () => {};

Deno.test("handlerOf() takes handleBatch over the default export with ordering partition", () => {
  assert.equal(handlerOf({ default: each, handleBatch: batch }, "/h.ts").kind, "batch");
  assert.equal(handlerOf({ default: each }, "/h.ts").kind, "message");
});

Deno.test("handlerOf() refuses a module that exports handleBatch with ordering key or none", () => {
  for (const ordering of ["key", "none"] as const) {
    assert.throws(
      () => handlerOf({ default: each, handleBatch: batch }, "/srv/bulk.ts", ordering),
      new RegExp(
        `^TypeError: ordering: ${ordering} needs a per-message handler \\(a default export\\); ` +
          "/srv/bulk.ts exports handleBatch",
      ),
    );
    assert.equal(handlerOf({ default: each }, "/h.ts", ordering).kind, "message");
  }
});

import assert from "node:assert/strict";
import {
  simpleModeSlot,
  transactionalId,
} from "../../../../src/kafka/platformatic/transactional_id.ts";

Deno.test("transactionalId() escapes each part, so that names with separators cannot meet another's", () => {
  assert.equal(
    transactionalId({ group: "g", consumer: "audit", replica: 0, daemon: "pod-0" }),
    "consumerd/g/audit/0/pod-0",
  );
  assert.notEqual(
    transactionalId({ group: "a/b", consumer: "c", replica: 0, daemon: "d" }),
    transactionalId({ group: "a", consumer: "b/c", replica: 0, daemon: "d" }),
  );
});

Deno.test("simpleModeSlot() names the partitions read as sorted runs, the same whatever their order, or all", () => {
  assert.equal(simpleModeSlot([7, 0, 1, 2, 3]), "simple:0-3,7");
  assert.equal(simpleModeSlot([3, 2, 1, 0, 7, 7]), "simple:0-3,7");
  assert.equal(simpleModeSlot([5]), "simple:5");
  assert.equal(simpleModeSlot([0, 2, 4]), "simple:0,2,4");
  assert.equal(simpleModeSlot(null), "simple:all");
  assert.notEqual(simpleModeSlot([0, 1]), simpleModeSlot([0, 1, 2]));
});

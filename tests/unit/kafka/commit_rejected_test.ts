import assert from "node:assert/strict";
import { CommitRejectedError, commitRejection } from "../../../src/kafka/commit_rejected.ts";
import { toErrorData } from "../../../src/protocol.ts";

Deno.test("commitRejection() refuses for good a commit Kafka did not authorize, in either mode", () => {
  for (const id of ["GROUP_AUTHORIZATION_FAILED", "TOPIC_AUTHORIZATION_FAILED"]) {
    for (const withoutMembership of [false, true]) {
      const error = commitRejection(["NOT_COORDINATOR", id], {
        group: "orders",
        withoutMembership,
      });
      assert.ok(error instanceof CommitRejectedError, id);
      assert.match(
        error.message,
        new RegExp(`group "orders": not authorized \\(Kafka answered ${id}\\)`),
      );
    }
  }
});

Deno.test("commitRejection() refuses for good a commit without membership while the group has members", () => {
  for (const id of ["ILLEGAL_GENERATION", "UNKNOWN_MEMBER_ID"]) {
    const cause = new Error(id);
    const error = commitRejection([id], { group: "g", withoutMembership: true, cause });
    assert.ok(error instanceof CommitRejectedError);
    assert.match(error.message, /without membership: the group has active members/);
    assert.equal(error.cause, cause);
    // A member's commit with the same errors lost a rebalance: it passes.
    assert.equal(commitRejection([id], { group: "g", withoutMembership: false }), null);
  }
});

Deno.test("commitRejection() leaves passing errors to be tried again", () => {
  for (const ids of [[], ["REBALANCE_IN_PROGRESS"], ["NOT_COORDINATOR"], ["REQUEST_TIMED_OUT"]]) {
    assert.equal(commitRejection(ids, { group: "g", withoutMembership: true }), null);
  }
});

Deno.test("a CommitRejectedError crosses to the supervisor as a non-retriable error with its name", () => {
  const data = toErrorData(commitRejection(["GROUP_AUTHORIZATION_FAILED"], {
    group: "g",
    withoutMembership: false,
  }));
  assert.equal(data.name, "CommitRejectedError");
  assert.equal(data.retriable, false);
});

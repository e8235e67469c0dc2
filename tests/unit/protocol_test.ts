import assert from "node:assert/strict";
import {
  errorText,
  isSupervisorMessage,
  isWorkerMessage,
  PROTOCOL_VERSION,
  toErrorData,
} from "../../src/protocol.ts";

Deno.test("isWorkerMessage() accepts every worker message type of this version", () => {
  for (
    const type of [
      "ready",
      "assigned",
      "started",
      "reset",
      "deadLettered",
      "revoked",
      "offsets",
      "heartbeat",
      "error",
      "stopped",
    ]
  ) {
    assert.equal(isWorkerMessage({ v: PROTOCOL_VERSION, type }), true, type);
  }
});

Deno.test("isWorkerMessage() rejects other versions, unknown types and non-objects", () => {
  assert.equal(isWorkerMessage({ v: PROTOCOL_VERSION + 1, type: "ready" }), false);
  assert.equal(isWorkerMessage({ v: PROTOCOL_VERSION, type: "toString" }), false);
  assert.equal(isWorkerMessage({ v: PROTOCOL_VERSION, type: "start" }), false);
  assert.equal(isWorkerMessage(null), false);
  assert.equal(isWorkerMessage("ready"), false);
});

Deno.test("isSupervisorMessage() accepts start, positions and stop only", () => {
  for (const type of ["start", "positions", "stop"]) {
    assert.equal(isSupervisorMessage({ v: PROTOCOL_VERSION, type }), true, type);
  }
  assert.equal(isSupervisorMessage({ v: PROTOCOL_VERSION, type: "ready" }), false);
  assert.equal(isSupervisorMessage({ v: 0, type: "stop" }), false);
});

Deno.test("toErrorData() turns errors into plain data that survives structured cloning", () => {
  const error = Object.assign(new RangeError("bad offset"), { retriable: true });
  const data = structuredClone(toErrorData(error));
  assert.equal(data.name, "RangeError");
  assert.equal(data.message, "bad offset");
  assert.equal(data.retriable, true);
  assert.match(data.stack ?? "", /bad offset/);
  assert.deepEqual(toErrorData("boom"), { name: "Error", message: "boom", retriable: false });
  assert.equal(toErrorData(new Error("x"), true).retriable, true);
});

Deno.test("errorText() gives a plain Error by its message and any other error with its name", () => {
  assert.equal(
    errorText({ name: "Error", message: "database unreachable", retriable: false }),
    "database unreachable",
  );
  assert.equal(
    errorText({ name: "CommitRejectedError", message: "not authorized", retriable: false }),
    "CommitRejectedError: not authorized",
  );
});

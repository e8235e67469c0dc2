import assert from "node:assert/strict";
import { formatStatus } from "../../../src/cli/status.ts";
import type { StatusBody } from "../../../src/http/status_body.ts";

const consumer = (
  over: Partial<StatusBody["consumers"][number]>,
): StatusBody["consumers"][number] => ({
  name: "orders",
  group: "g",
  topic: "t",
  mode: "balanced",
  groupProtocol: "classic",
  members: [],
  state: "running",
  reason: null,
  ready: true,
  replicas: 1,
  workersUp: 1,
  restarts: 0,
  lastError: null,
  resets: { "committed": 1, "reset-on-start": 0, "no-committed-offset": 0, "out-of-range": 0 },
  deadLettered: 0,
  processed: 10,
  partitions: [
    { partition: 0, committed: "4", processed: "3", highWatermark: "9", lag: "5" },
    { partition: 1, committed: "7", processed: "6", highWatermark: "7", lag: "0" },
  ],
  paused: [],
  dispatch: null,
  fingerprint: null,
  ...over,
});

const status = (c: StatusBody["consumers"][number]): StatusBody => ({
  config: { path: "/c.yaml", revision: 1, lastReload: null },
  consumers: [c],
});

Deno.test("formatStatus() shows a paused key on its partition's line", () => {
  const text = formatStatus(status(consumer({
    dispatch: {
      inFlight: 3,
      buffered: 40,
      pausedKeys: 1,
      paused: [{ partition: 0, key: "order-7", offset: "4", reason: "handler failed: boom" }],
    },
  })));
  const lines = text.split("\n");
  const p0 = lines.find((l) => / 0 +4 /.test(l))!;
  const p1 = lines.find((l) => / 1 +7 /.test(l))!;
  assert.match(p0, /key "order-7" paused at 4: handler failed: boom/);
  assert.doesNotMatch(p1, /paused/);
});

Deno.test("formatStatus() shows a paused partition's reason", () => {
  const text = formatStatus(status(consumer({ paused: [{ partition: 1, reason: "boom" }] })));
  assert.match(text.split("\n").find((l) => / 1 +7 /.test(l))!, /paused: boom/);
});

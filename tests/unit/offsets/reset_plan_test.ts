import assert from "node:assert/strict";
import {
  parsePartitionList,
  parseResetTarget,
  planReset,
} from "../../../src/offsets/reset_plan.ts";

Deno.test("parseResetTarget() reads earliest, latest, offsets and ISO times", () => {
  assert.deepEqual(parseResetTarget("EARLIEST"), { kind: "earliest" });
  assert.deepEqual(parseResetTarget("latest"), { kind: "latest" });
  assert.deepEqual(parseResetTarget("9223372036854775807"), {
    kind: "offset",
    offset: 9223372036854775807n,
  });
  assert.deepEqual(parseResetTarget("2026-11-29T10:00:00Z"), {
    kind: "time",
    ms: Date.UTC(2026, 10, 29, 10),
    text: "2026-11-29T10:00:00.000Z",
  });
  const noZone = parseResetTarget("2026-11-29T10:00");
  assert.equal(
    typeof noZone !== "string" && noZone.kind === "time" && noZone.ms,
    Date.UTC(2026, 10, 29, 10),
    "UTC without a zone",
  );
  assert.match(String(parseResetTarget("9223372036854775808")), /beyond the largest offset/);
  assert.match(String(parseResetTarget("-1")), /--to must be earliest, latest/);
  assert.match(String(parseResetTarget("yesterday")), /not "yesterday"/);
});

Deno.test("planReset() clamps into the log like Kafka's tool; a time past the end means the high watermark", () => {
  const partitions = [
    { partition: 0, committed: "5", low: "3", high: "20" },
    { partition: 1, committed: null, low: "0", high: "20" },
  ];
  assert.deepEqual(planReset({ kind: "earliest" }, partitions).map((s) => [s.from, s.to]), [
    ["5", "3"],
    [null, "0"],
  ]);
  const clamped = planReset({ kind: "offset", offset: 2n }, partitions);
  assert.deepEqual(clamped.map((s) => s.to), ["3", "2"]);
  assert.match(clamped[0]!.note ?? "", /before the log start/);
  assert.deepEqual(planReset({ kind: "offset", offset: 99n }, partitions).map((s) => s.to), [
    "20",
    "20",
  ]);
  const timed = planReset({ kind: "time", ms: 0, text: "" }, [
    { ...partitions[0]!, atTime: "10" },
    { ...partitions[1]!, atTime: null },
  ]);
  assert.deepEqual(timed.map((s) => s.to), ["10", "20"]);
});

Deno.test("parsePartitionList() names partitions that do not exist", () => {
  assert.deepEqual(parsePartitionList("2, 0,2", [0, 1, 2]), [0, 2]);
  assert.match(
    String(parsePartitionList("0,5", [0, 1, 2])),
    /partition 5 does not exist \(the topic has 3: 0, 1, 2\)/,
  );
  assert.match(String(parsePartitionList("a", [0])), /comma-separated list/);
});

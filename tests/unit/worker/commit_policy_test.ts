import assert from "node:assert/strict";
import { MAX_TICK_MS, tickMs } from "../../../src/worker/commit_policy.ts";

Deno.test("tickMs() follows an auto-commit interval shorter than a second", () => {
  assert.equal(tickMs({ mode: "auto", intervalMs: 200 }), 200);
  assert.equal(tickMs({ mode: "auto", intervalMs: 1 }), 1);
});

Deno.test("tickMs() stays at a second for longer intervals and in manual mode", () => {
  assert.equal(tickMs({ mode: "auto", intervalMs: 5000 }), MAX_TICK_MS);
  assert.equal(tickMs({ mode: "manual", intervalMs: 200 }), MAX_TICK_MS);
});

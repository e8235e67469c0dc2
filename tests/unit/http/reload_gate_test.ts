import assert from "node:assert/strict";
import { coalesceReloads } from "../../../src/http/reload_gate.ts";

/** A reload that counts its runs and finishes when told. */
function controlledReload() {
  const finish: Array<(value: number) => void> = [];
  let runs = 0;
  let inFlight = 0;
  let most = 0;
  const reload = () =>
    new Promise<number>((resolve) => {
      const run = ++runs;
      most = Math.max(most, ++inFlight);
      finish.push(() => {
        inFlight--;
        resolve(run);
      });
    });
  return {
    reload,
    finishNext: () => finish.shift()!(0),
    get runs() {
      return runs;
    },
    get most() {
      return most;
    },
  };
}

const tick = () => new Promise((r) => setTimeout(r, 0));

Deno.test("coalesceReloads() runs one reload and queues one: later calls join the queued one", async () => {
  const r = controlledReload();
  const reload = coalesceReloads(r.reload);
  const first = reload();
  const rest = Array.from({ length: 19 }, () => reload());
  await tick();
  assert.equal(r.runs, 1, "one runs");
  r.finishNext();
  assert.equal(await first, 1);
  await tick();
  assert.equal(r.runs, 2, "the queued one starts when the first is done");
  r.finishNext();
  assert.deepEqual(new Set(await Promise.all(rest)), new Set([2]), "all 19 share the second");
  assert.equal(r.most, 1, "never two at once");
  assert.equal(r.runs, 2);
});

Deno.test("coalesceReloads() starts anew once idle, and a failed reload does not block the next", async () => {
  let calls = 0;
  const reload = coalesceReloads(() => {
    calls++;
    return calls === 1 ? Promise.reject(new Error("boom")) : Promise.resolve(calls);
  });
  const failed = reload();
  const queued = reload();
  await assert.rejects(failed, /boom/);
  assert.equal(await queued, 2);
  assert.equal(await reload(), 3, "idle again: a new reload");
});

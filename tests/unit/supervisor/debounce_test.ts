import assert from "node:assert/strict";
import { Debouncer } from "../../../src/supervisor/debounce.ts";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

Deno.test("Debouncer runs a burst of pokes once, after the quiet period", async () => {
  let runs = 0;
  const debouncer = new Debouncer(() => runs++, { quietMs: 100 });
  for (let i = 0; i < 5; i++) {
    debouncer.poke();
    await sleep(20);
  }
  assert.equal(runs, 0, "not during the burst");
  await sleep(300);
  assert.equal(runs, 1);
  debouncer.poke();
  await sleep(300);
  assert.equal(runs, 2, "a later poke runs again");
});

Deno.test("Debouncer runs by maxWaitMs even while pokes keep coming", async () => {
  let runs = 0;
  const debouncer = new Debouncer(() => runs++, { quietMs: 100, maxWaitMs: 200 });
  const until = performance.now() + 500;
  while (performance.now() < until) {
    debouncer.poke();
    await sleep(20);
  }
  debouncer.cancel();
  assert.ok(runs >= 1, `ran ${runs} times while poked for 500 ms`);
});

Deno.test("Debouncer rejects a negative quiet period", () => {
  assert.throws(() => new Debouncer(() => {}, { quietMs: -1 }), RangeError);
});

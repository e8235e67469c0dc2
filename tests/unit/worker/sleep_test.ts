import assert from "node:assert/strict";
import { sleep } from "../../../src/worker/sleep.ts";

/** An AbortSignal that counts the listeners it holds. */
function countingSignal() {
  const controller = new AbortController();
  const { signal } = controller;
  const held = new Set<unknown>();
  const add = signal.addEventListener.bind(signal);
  const remove = signal.removeEventListener.bind(signal);
  signal.addEventListener = (type: string, listener: unknown, options?: unknown) => {
    held.add(listener);
    add(type, listener as EventListener, options as AddEventListenerOptions);
  };
  signal.removeEventListener = (type: string, listener: unknown, options?: unknown) => {
    held.delete(listener);
    remove(type, listener as EventListener, options as EventListenerOptions);
  };
  return { controller, signal, held };
}

Deno.test("sleep() leaves no listener on the signal once its time passed", async () => {
  const { signal, held } = countingSignal();
  for (let i = 0; i < 100; i++) await sleep(0, signal);
  assert.equal(held.size, 0);
});

Deno.test("sleep() resolves at once when the signal aborts, and before its time", async () => {
  const { controller, signal } = countingSignal();
  const started = performance.now();
  const slept = sleep(60_000, signal);
  controller.abort();
  await slept;
  assert.ok(performance.now() - started < 1000);
  await sleep(60_000, signal); // aborted already: resolves at once
});

Deno.test("sleep() without a signal waits its time", async () => {
  const started = performance.now();
  await sleep(20);
  assert.ok(performance.now() - started >= 15);
});

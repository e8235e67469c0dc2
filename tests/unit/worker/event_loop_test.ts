import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { nextTurn, TurnPacer } from "../../../src/worker/event_loop.ts";

const BUN = fileURLToPath(new URL("../../../node_modules/.bin/bun", import.meta.url));
const PROBE = fileURLToPath(new URL("./fixtures/event_loop_probe.ts", import.meta.url));

/** Whether a timer due now has run once `fn` resolved. */
async function turnedDuring(fn: () => Promise<void>): Promise<boolean> {
  let fired = false;
  const timer = setTimeout(() => (fired = true), 0);
  await fn();
  clearTimeout(timer);
  return fired;
}

Deno.test("nextTurn() resolves after a timer that was due", async () => {
  assert.equal(await turnedDuring(() => nextTurn()), true);
  assert.equal(await turnedDuring(() => Promise.resolve()), false, "a settled promise does not");
});

Deno.test("TurnPacer.turn() lets the event loop turn once every 'everyMs' by the caller's clock", async () => {
  const turns = new TurnPacer(1000, 0);
  assert.equal(await turnedDuring(() => turns.turn(999)), false, "not due yet");
  assert.equal(await turnedDuring(() => turns.turn(1000)), true);
  assert.equal(await turnedDuring(() => turns.turn(1999)), false, "counted from the last turn");
  assert.equal(await turnedDuring(() => turns.turn(2000)), true, "a caller asking every 1000 ms");
});

Deno.test("TurnPacer.due() says whether turn() would turn, without turning", async () => {
  const turns = new TurnPacer(1000, 0);
  assert.equal(turns.due(999), false);
  assert.equal(turns.due(1000), true);
  assert.equal(turns.due(1000), true, "asking does not count as a turn");
  await turns.turn(1000);
  assert.equal(turns.due(1999), false, "counted from the last turn");
});

Deno.test("TurnPacer rejects a negative or NaN 'everyMs'", () => {
  assert.throws(() => new TurnPacer(-1), /'everyMs' must be non-negative: current value is -1/);
  assert.throws(() => new TurnPacer(NaN), /current value is NaN/);
});

for (const runtime of ["deno", "bun"] as const) {
  Deno.test({
    name:
      `nextTurn() on ${runtime}: after synchronous work, one turn runs an overdue interval and a few take in a loopback echo`,
    ignore: runtime === "bun" && !existsSync(BUN),
    fn: async () => {
      const [command, args] = runtime === "bun"
        ? [BUN, ["run", PROBE]]
        : [Deno.execPath(), ["run", "-A", PROBE]];
      const { code, stdout, stderr } = await new Deno.Command(command, {
        args,
        stdout: "piped",
        stderr: "piped",
      }).output();
      assert.equal(code, 0, new TextDecoder().decode(stderr));
      const { timerTurns, ioTurns } = JSON.parse(new TextDecoder().decode(stdout));
      assert.equal(timerTurns, 1);
      assert.ok(ioTurns <= 4, `turns until the echo came back: ${ioTurns}`);
    },
  });
}

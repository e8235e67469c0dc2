import assert from "node:assert/strict";
import { backoffDelay, type BackoffOptions } from "../../src/backoff.ts";

const constant = (value: number) => () => value;

Deno.test("backoffDelay() doubles the ceiling with each failed attempt", () => {
  const options = { baseMs: 100, maxMs: 1_000_000, jitter: 0 };
  assert.deepEqual(
    [1, 2, 3, 4, 5, 6].map((attempt) => backoffDelay(attempt, options)),
    [100, 200, 400, 800, 1600, 3200],
  );
});

Deno.test("backoffDelay() waits baseMs after the first failure without jitter", () => {
  assert.equal(backoffDelay(1, { baseMs: 200, maxMs: 30_000, jitter: 0 }), 200);
});

Deno.test("backoffDelay() never exceeds maxMs", async (t) => {
  const options = { baseMs: 200, maxMs: 30_000, jitter: 0 };
  await t.step("the attempt that reaches the cap", () => {
    assert.equal(backoffDelay(8, options), 25_600);
    assert.equal(backoffDelay(9, options), 30_000);
  });
  await t.step("attempts far past the cap, where 2 ** attempt overflows", () => {
    for (const attempt of [100, 1024, 1025, 5000, Number.MAX_SAFE_INTEGER]) {
      assert.equal(backoffDelay(attempt, options), 30_000, String(attempt));
    }
  });
  await t.step("with full jitter at its largest sample", () => {
    for (let attempt = 1; attempt < 40; attempt++) {
      const delay = backoffDelay(attempt, { ...options, jitter: 1, random: constant(0) });
      assert.ok(delay <= 30_000, `${attempt}: ${delay}`);
    }
  });
  await t.step("maxMs equal to baseMs gives a constant delay", () => {
    for (const attempt of [1, 2, 10]) {
      assert.equal(backoffDelay(attempt, { baseMs: 500, maxMs: 500, jitter: 0 }), 500);
    }
  });
});

Deno.test("backoffDelay() with full jitter draws from [0, ceiling]", () => {
  const options = { baseMs: 100, maxMs: 10_000, jitter: 1 };
  assert.equal(backoffDelay(3, { ...options, random: constant(0) }), 400);
  assert.equal(backoffDelay(3, { ...options, random: constant(0.25) }), 300);
  assert.equal(backoffDelay(3, { ...options, random: constant(0.5) }), 200);
  assert.equal(backoffDelay(3, { ...options, random: constant(1) }), 0);
});

Deno.test("backoffDelay() with equal jitter draws from [ceiling / 2, ceiling]", () => {
  const options = { baseMs: 100, maxMs: 10_000, jitter: 0.5 };
  assert.equal(backoffDelay(3, { ...options, random: constant(0) }), 400);
  assert.equal(backoffDelay(3, { ...options, random: constant(0.5) }), 300);
  assert.equal(backoffDelay(3, { ...options, random: constant(1) }), 200);
  // Capped: the jitter applies to the cap.
  assert.equal(backoffDelay(30, { ...options, random: constant(1) }), 5_000);
});

Deno.test("backoffDelay() uses full jitter by default", () => {
  assert.equal(backoffDelay(2, { baseMs: 100, maxMs: 10_000, random: constant(1) }), 0);
  assert.equal(backoffDelay(2, { baseMs: 100, maxMs: 10_000, random: constant(0.5) }), 100);
});

Deno.test("backoffDelay() uses Math.random by default and stays in range", () => {
  for (let i = 0; i < 1000; i++) {
    const delay = backoffDelay(4, { baseMs: 100, maxMs: 10_000, jitter: 0.3 });
    assert.ok(delay >= 560 && delay <= 800, String(delay));
  }
});

Deno.test("backoffDelay() draws one sample per call, and none without jitter", () => {
  let calls = 0;
  const random = () => {
    calls++;
    return 0.5;
  };
  backoffDelay(1, { baseMs: 100, maxMs: 1000, random });
  backoffDelay(2, { baseMs: 100, maxMs: 1000, random });
  assert.equal(calls, 2);
  backoffDelay(2, { baseMs: 100, maxMs: 1000, jitter: 0, random });
  assert.equal(calls, 2);
});

Deno.test("backoffDelay() returns 0 for a zero base at every attempt", () => {
  for (const attempt of [1, 2, 2000]) {
    assert.equal(backoffDelay(attempt, { baseMs: 0, maxMs: 0 }), 0);
    assert.equal(backoffDelay(attempt, { baseMs: 0, maxMs: 1000, jitter: 0 }), 0);
  }
});

Deno.test("backoffDelay() accepts fractional milliseconds", () => {
  assert.equal(backoffDelay(2, { baseMs: 0.5, maxMs: 10, jitter: 0 }), 1);
  assert.equal(
    backoffDelay(1, { baseMs: 10, maxMs: 10, jitter: 0.5, random: constant(0.25) }),
    8.75,
  );
});

Deno.test("backoffDelay() throws RangeError for an attempt that is not a positive integer", async (t) => {
  const options = { baseMs: 100, maxMs: 1000 };
  for (const attempt of [0, -1, 1.5, NaN, Infinity]) {
    await t.step(String(attempt), () => {
      assert.throws(() => backoffDelay(attempt, options), {
        name: "RangeError",
        message:
          `Cannot compute backoff delay as 'attempt' must be a positive integer: current value is ${attempt}`,
      });
    });
  }
  await t.step("a string", () => {
    assert.throws(() => backoffDelay("1" as unknown as number, options), {
      name: "TypeError",
      message:
        `Cannot compute backoff delay as 'attempt' must be a positive integer: current value is "1"`,
    });
  });
});

Deno.test("backoffDelay() throws for invalid options", async (t) => {
  const valid: BackoffOptions = { baseMs: 100, maxMs: 1000 };
  const cases: Array<[string, unknown, string, string]> = [
    ["options", null, "TypeError", "'options' must be an object: current value is null"],
    ["options", 5, "TypeError", "'options' must be an object: current value is 5"],
    [
      "baseMs",
      { ...valid, baseMs: "100" },
      "TypeError",
      `'baseMs' must be a number: current value is "100"`,
    ],
    [
      "baseMs",
      { ...valid, baseMs: -1 },
      "RangeError",
      "'baseMs' must be a finite non-negative number: current value is -1",
    ],
    [
      "baseMs",
      { ...valid, baseMs: NaN },
      "RangeError",
      "'baseMs' must be a finite non-negative number: current value is NaN",
    ],
    [
      "baseMs",
      { ...valid, baseMs: Infinity, maxMs: Infinity },
      "RangeError",
      "'baseMs' must be a finite non-negative number: current value is Infinity",
    ],
    [
      "maxMs",
      { baseMs: 100 },
      "TypeError",
      "'maxMs' must be a number: current value is undefined",
    ],
    [
      "maxMs",
      { ...valid, maxMs: 50 },
      "RangeError",
      "'maxMs' must be a finite number not below 'baseMs' (100): current value is 50",
    ],
    [
      "maxMs",
      { ...valid, maxMs: Infinity },
      "RangeError",
      "'maxMs' must be a finite number not below 'baseMs' (100): current value is Infinity",
    ],
    [
      "maxMs",
      { ...valid, maxMs: NaN },
      "RangeError",
      "'maxMs' must be a finite number not below 'baseMs' (100): current value is NaN",
    ],
    [
      "jitter",
      { ...valid, jitter: 1.5 },
      "RangeError",
      "'jitter' must be a number from 0 to 1: current value is 1.5",
    ],
    [
      "jitter",
      { ...valid, jitter: -0.1 },
      "RangeError",
      "'jitter' must be a number from 0 to 1: current value is -0.1",
    ],
    [
      "jitter",
      { ...valid, jitter: NaN },
      "RangeError",
      "'jitter' must be a number from 0 to 1: current value is NaN",
    ],
    [
      "jitter",
      { ...valid, jitter: "0.5" },
      "TypeError",
      `'jitter' must be a number: current value is "0.5"`,
    ],
    [
      "random",
      { ...valid, random: 0.5 },
      "TypeError",
      "'random' must be a function: current value is 0.5",
    ],
    [
      "random",
      { ...valid, random: constant(1.5) },
      "RangeError",
      "'random' must return a number from 0 to 1: current value is 1.5",
    ],
    [
      "random",
      { ...valid, random: constant(-0.5) },
      "RangeError",
      "'random' must return a number from 0 to 1: current value is -0.5",
    ],
    [
      "random",
      { ...valid, random: () => "0.5" },
      "RangeError",
      `'random' must return a number from 0 to 1: current value is "0.5"`,
    ],
  ];
  for (const [field, options, name, message] of cases) {
    await t.step(`${field}: ${message}`, () => {
      assert.throws(() => backoffDelay(1, options as BackoffOptions), {
        name,
        message: `Cannot compute backoff delay as ${message}`,
      });
    });
  }
});

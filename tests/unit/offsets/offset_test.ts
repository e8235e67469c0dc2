import assert from "node:assert/strict";
import {
  compareOffsets,
  MAX_OFFSET,
  nextOffset,
  parseOffset,
} from "../../../src/offsets/offset.ts";

const context = { action: "seek", name: "offset" };

Deno.test("parseOffset() returns canonical offsets unchanged", () => {
  for (const value of ["0", "1", "42", "9007199254740993", MAX_OFFSET]) {
    assert.equal(parseOffset(value, context), value);
  }
});

Deno.test("parseOffset() removes leading zeros", () => {
  assert.equal(parseOffset("00", context), "0");
  assert.equal(parseOffset("0042", context), "42");
  assert.equal(parseOffset("0009223372036854775807", context), MAX_OFFSET);
});

Deno.test("parseOffset() throws TypeError for values that are not strings of digits", async (t) => {
  const cases: Array<[unknown, string]> = [
    ["", '""'],
    ["abc", '"abc"'],
    ["1.5", '"1.5"'],
    ["1e3", '"1e3"'],
    ["-", '"-"'],
    ["--1", '"--1"'],
    [" 1", '" 1"'],
    [1, "1"],
    [1n, "1n"],
    [null, "null"],
    [undefined, "undefined"],
    [{ offset: "1" }, '{"offset":"1"}'],
    [Object.create(null), "{}"],
  ];
  for (const [value, shown] of cases) {
    await t.step(shown, () => {
      assert.throws(() => parseOffset(value, context), {
        name: "TypeError",
        message:
          `Cannot seek as 'offset' must be a non-negative integer string: current value is ${shown}`,
      });
    });
  }
});

Deno.test("parseOffset() throws RangeError for negative offsets", () => {
  assert.throws(() => parseOffset("-1", context), {
    name: "RangeError",
    message: `Cannot seek as 'offset' must be a non-negative integer string: current value is "-1"`,
  });
});

Deno.test("parseOffset() throws RangeError above 2^63 - 1, with or without leading zeros", () => {
  for (const value of ["9223372036854775808", "09223372036854775808", "99999999999999999999"]) {
    assert.throws(() => parseOffset(value, context), {
      name: "RangeError",
      message:
        `Cannot seek as 'offset' must not exceed 9223372036854775807: current value is "${value}"`,
    });
  }
});

Deno.test("compareOffsets() orders offsets numerically", () => {
  const sorted = [
    "0",
    "1",
    "9",
    "10",
    "99",
    "100",
    "9007199254740992",
    "9007199254740993",
    MAX_OFFSET,
  ];
  for (let i = 0; i < sorted.length; i++) {
    for (let j = 0; j < sorted.length; j++) {
      const a = sorted[i]!;
      const b = sorted[j]!;
      assert.equal(Math.sign(compareOffsets(a, b)), Math.sign(i - j), `${a} vs ${b}`);
    }
  }
});

Deno.test("nextOffset() adds one without losing precision", () => {
  assert.equal(nextOffset("0"), "1");
  assert.equal(nextOffset("9"), "10");
  assert.equal(nextOffset("9007199254740992"), "9007199254740993");
  assert.equal(nextOffset("9223372036854775806"), MAX_OFFSET);
});

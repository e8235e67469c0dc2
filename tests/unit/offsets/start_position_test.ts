import assert from "node:assert/strict";
import { startPosition, type StartPositionInput } from "../../../src/offsets/start_position.ts";

/** A partition holding offsets 100..199 whose group committed 150, not reset on start. */
function input(overrides: Partial<StartPositionInput> = {}): StartPositionInput {
  return {
    autoOffsetReset: "earliest",
    resetOffsetOnStart: false,
    heldAtStart: true,
    committed: "150",
    logStartOffset: "100",
    highWatermark: "200",
    ...overrides,
  };
}

const RESETS = [
  { autoOffsetReset: "earliest", offset: "100" },
  { autoOffsetReset: "latest", offset: "200" },
] as const;

Deno.test("startPosition() resets a partition held at start when resetOffsetOnStart is true", async (t) => {
  for (const { autoOffsetReset, offset } of RESETS) {
    for (const committed of ["150", "100", "200", null, "-1", "99", "201"]) {
      await t.step(`${autoOffsetReset}, committed ${committed}`, () => {
        assert.deepEqual(
          startPosition(input({ autoOffsetReset, resetOffsetOnStart: true, committed })),
          { offset, reason: "reset-on-start", commit: true },
        );
      });
    }
  }
});

Deno.test("startPosition() resumes from the committed offset for a partition that arrived after the start settled", async (t) => {
  for (const { autoOffsetReset } of RESETS) {
    await t.step(autoOffsetReset, () => {
      assert.deepEqual(
        startPosition(input({ autoOffsetReset, resetOffsetOnStart: true, heldAtStart: false })),
        { offset: "150", reason: "committed", commit: false },
      );
    });
  }
});

Deno.test("startPosition() resumes from the committed offset when resetOffsetOnStart is false", async (t) => {
  for (const { autoOffsetReset } of RESETS) {
    for (const heldAtStart of [true, false]) {
      await t.step(`${autoOffsetReset}, heldAtStart ${heldAtStart}`, () => {
        assert.deepEqual(
          startPosition(input({ autoOffsetReset, resetOffsetOnStart: false, heldAtStart })),
          { offset: "150", reason: "committed", commit: false },
        );
      });
    }
  }
});

Deno.test("startPosition() starts at autoOffsetReset when there is no committed offset", async (t) => {
  const cases = [
    { resetOffsetOnStart: false, heldAtStart: true },
    { resetOffsetOnStart: false, heldAtStart: false },
    { resetOffsetOnStart: true, heldAtStart: false },
  ];
  for (const { autoOffsetReset, offset } of RESETS) {
    for (const committed of [null, "-1"]) {
      for (const { resetOffsetOnStart, heldAtStart } of cases) {
        await t.step(
          `${autoOffsetReset}, committed ${committed}, resetOffsetOnStart ${resetOffsetOnStart}, heldAtStart ${heldAtStart}`,
          () => {
            assert.deepEqual(
              startPosition(
                input({ autoOffsetReset, resetOffsetOnStart, heldAtStart, committed }),
              ),
              { offset, reason: "no-committed-offset", commit: true },
            );
          },
        );
      }
    }
  }
});

Deno.test("startPosition() starts at autoOffsetReset when the committed offset is out of range", async (t) => {
  const cases = [
    { resetOffsetOnStart: false, heldAtStart: true },
    { resetOffsetOnStart: false, heldAtStart: false },
    { resetOffsetOnStart: true, heldAtStart: false },
  ];
  for (const { autoOffsetReset, offset } of RESETS) {
    for (const committed of ["0", "99", "201", "5000"]) {
      for (const { resetOffsetOnStart, heldAtStart } of cases) {
        await t.step(
          `${autoOffsetReset}, committed ${committed}, resetOffsetOnStart ${resetOffsetOnStart}, heldAtStart ${heldAtStart}`,
          () => {
            assert.deepEqual(
              startPosition(
                input({ autoOffsetReset, resetOffsetOnStart, heldAtStart, committed }),
              ),
              { offset, reason: "out-of-range", commit: true },
            );
          },
        );
      }
    }
  }
});

Deno.test("startPosition() treats the range bounds of the committed offset as inclusive", async (t) => {
  await t.step("committed == logStartOffset is valid", () => {
    assert.deepEqual(startPosition(input({ committed: "100" })), {
      offset: "100",
      reason: "committed",
      commit: false,
    });
  });
  await t.step("committed == highWatermark is valid (nothing new to read)", () => {
    assert.deepEqual(startPosition(input({ committed: "200", autoOffsetReset: "earliest" })), {
      offset: "200",
      reason: "committed",
      commit: false,
    });
  });
  await t.step("committed == highWatermark + 1 is out of range", () => {
    assert.deepEqual(startPosition(input({ committed: "201", autoOffsetReset: "latest" })), {
      offset: "200",
      reason: "out-of-range",
      commit: true,
    });
  });
  await t.step("committed == logStartOffset - 1 is out of range", () => {
    assert.deepEqual(startPosition(input({ committed: "99", autoOffsetReset: "earliest" })), {
      offset: "100",
      reason: "out-of-range",
      commit: true,
    });
  });
  await t.step("an empty log accepts only committed == logStartOffset == highWatermark", () => {
    const empty = { logStartOffset: "7", highWatermark: "7" };
    assert.deepEqual(startPosition(input({ ...empty, committed: "7" })), {
      offset: "7",
      reason: "committed",
      commit: false,
    });
    assert.deepEqual(startPosition(input({ ...empty, committed: "6" })), {
      offset: "7",
      reason: "out-of-range",
      commit: true,
    });
    assert.deepEqual(startPosition(input({ ...empty, committed: "8" })), {
      offset: "7",
      reason: "out-of-range",
      commit: true,
    });
  });
  await t.step("committed 0 is a real offset, not a missing one", () => {
    assert.deepEqual(
      startPosition(
        input({
          committed: "0",
          logStartOffset: "0",
          highWatermark: "10",
          autoOffsetReset: "latest",
        }),
      ),
      { offset: "0", reason: "committed", commit: false },
    );
  });
});

Deno.test("startPosition() compares offsets above 2^53 exactly", async (t) => {
  // 2^53 = 9007199254740992: Number("9007199254740993") === 9007199254740992.
  const big = { logStartOffset: "9007199254740992", highWatermark: "9007199254740992" };
  await t.step("committed one above a high watermark of 2^53 is out of range", () => {
    assert.deepEqual(
      startPosition(input({ ...big, committed: "9007199254740993", autoOffsetReset: "latest" })),
      { offset: "9007199254740992", reason: "out-of-range", commit: true },
    );
  });
  await t.step("committed one below a log start of 2^53 + 1 is out of range", () => {
    assert.deepEqual(
      startPosition(
        input({
          logStartOffset: "9007199254740993",
          highWatermark: "9007199254740999",
          committed: "9007199254740992",
          autoOffsetReset: "earliest",
        }),
      ),
      { offset: "9007199254740993", reason: "out-of-range", commit: true },
    );
  });
  await t.step("a valid committed offset above 2^53 is returned digit for digit", () => {
    assert.deepEqual(
      startPosition(
        input({
          logStartOffset: "9007199254740993",
          highWatermark: "9223372036854775807",
          committed: "9223372036854775806",
        }),
      ),
      { offset: "9223372036854775806", reason: "committed", commit: false },
    );
  });
  await t.step("offsets of different lengths compare numerically, not as text", () => {
    assert.deepEqual(
      startPosition(input({ logStartOffset: "9", highWatermark: "10", committed: "10" })),
      { offset: "10", reason: "committed", commit: false },
    );
    assert.deepEqual(
      startPosition(
        input({
          logStartOffset: "9",
          highWatermark: "100",
          committed: "11",
          autoOffsetReset: "latest",
        }),
      ),
      { offset: "11", reason: "committed", commit: false },
    );
  });
});

Deno.test("startPosition() returns offsets in canonical form", () => {
  assert.deepEqual(
    startPosition(input({ committed: "0150", logStartOffset: "0100", highWatermark: "0200" })),
    { offset: "150", reason: "committed", commit: false },
  );
  assert.deepEqual(
    startPosition(input({ committed: null, logStartOffset: "007", highWatermark: "010" })),
    { offset: "7", reason: "no-committed-offset", commit: true },
  );
});

Deno.test("startPosition() follows the worked examples of PyKafka's usage guide", async (t) => {
  // The topic holds offsets 0..9.
  const topic = { logStartOffset: "0", highWatermark: "10" };
  await t.step("a new group with LATEST starts at the end of the log, 10", () => {
    assert.deepEqual(
      startPosition({
        ...topic,
        autoOffsetReset: "latest",
        resetOffsetOnStart: false,
        heldAtStart: true,
        committed: null,
      }),
      { offset: "10", reason: "no-committed-offset", commit: true },
    );
  });
  await t.step("after processing through offset 4 and committing 5, the next start reads 5", () => {
    // PyKafka: "if the last committed offset was 4, consumption starts at 5".
    // Kafka's convention, used by consumerd, stores the next offset: 5.
    for (const autoOffsetReset of ["earliest", "latest"] as const) {
      assert.deepEqual(
        startPosition({
          ...topic,
          autoOffsetReset,
          resetOffsetOnStart: false,
          heldAtStart: true,
          committed: "5",
        }),
        { offset: "5", reason: "committed", commit: false },
      );
    }
  });
  await t.step("EARLIEST with resetOffsetOnStart starts at 0 despite a committed offset", () => {
    assert.deepEqual(
      startPosition({
        ...topic,
        autoOffsetReset: "earliest",
        resetOffsetOnStart: true,
        heldAtStart: true,
        committed: "5",
      }),
      { offset: "0", reason: "reset-on-start", commit: true },
    );
  });
});

Deno.test("startPosition() throws TypeError naming a field that is not an offset string", async (t) => {
  for (const name of ["committed", "logStartOffset", "highWatermark"] as const) {
    for (const value of ["abc", "", " 5", "5 ", "5.0", "1e3", "+5", "0x10", "٣"]) {
      await t.step(`${name} = ${JSON.stringify(value)}`, () => {
        assert.throws(() => startPosition(input({ [name]: value })), {
          name: "TypeError",
          message:
            `Cannot compute start position as '${name}' must be a non-negative integer string: current value is ${
              JSON.stringify(value)
            }`,
        });
      });
    }
    await t.step(`${name} as a number`, () => {
      assert.throws(
        () => startPosition(input({ [name]: 150 as unknown as string })),
        {
          name: "TypeError",
          message:
            `Cannot compute start position as '${name}' must be a non-negative integer string: current value is 150`,
        },
      );
    });
    await t.step(`${name} as a bigint`, () => {
      assert.throws(
        () => startPosition(input({ [name]: 150n as unknown as string })),
        {
          name: "TypeError",
          message:
            `Cannot compute start position as '${name}' must be a non-negative integer string: current value is 150n`,
        },
      );
    });
  }
  await t.step("logStartOffset = null", () => {
    assert.throws(() => startPosition(input({ logStartOffset: null as unknown as string })), {
      name: "TypeError",
      message:
        "Cannot compute start position as 'logStartOffset' must be a non-negative integer string: current value is null",
    });
  });
  await t.step("committed = undefined", () => {
    assert.throws(() => startPosition(input({ committed: undefined as unknown as string })), {
      name: "TypeError",
      message:
        "Cannot compute start position as 'committed' must be a non-negative integer string: current value is undefined",
    });
  });
});

Deno.test("startPosition() treats a negative committed placeholder (kafkajs's -2) as out of range", async (t) => {
  for (const { autoOffsetReset, offset } of RESETS) {
    for (const committed of ["-2", "-1000"]) {
      await t.step(`${autoOffsetReset}, committed ${committed}`, () => {
        assert.deepEqual(
          startPosition(input({ autoOffsetReset, heldAtStart: false, committed })),
          { offset, reason: "out-of-range", commit: true },
        );
      });
    }
  }
  await t.step("resetOffsetOnStart still wins for a partition held at start", () => {
    assert.deepEqual(
      startPosition(input({ resetOffsetOnStart: true, committed: "-2" })),
      { offset: "100", reason: "reset-on-start", commit: true },
    );
  });
});

Deno.test("startPosition() throws RangeError for negative log bounds", async (t) => {
  for (const name of ["logStartOffset", "highWatermark"] as const) {
    for (const value of ["-2", "-1000"]) {
      await t.step(`${name} = ${value}`, () => {
        assert.throws(() => startPosition(input({ [name]: value })), {
          name: "RangeError",
          message:
            `Cannot compute start position as '${name}' must be a non-negative integer string: current value is "${value}"`,
        });
      });
    }
  }
  for (const name of ["logStartOffset", "highWatermark"] as const) {
    await t.step(`${name} = -1`, () => {
      assert.throws(() => startPosition(input({ [name]: "-1" })), RangeError);
    });
  }
});

Deno.test("startPosition() throws RangeError for offsets above 2^63 - 1", async (t) => {
  await t.step("2^63 - 1 is accepted", () => {
    assert.deepEqual(
      startPosition(
        input({ committed: "9223372036854775807", highWatermark: "9223372036854775807" }),
      ),
      { offset: "9223372036854775807", reason: "committed", commit: false },
    );
  });
  for (const value of ["9223372036854775808", "18446744073709551615", "100000000000000000000"]) {
    await t.step(value, () => {
      assert.throws(() => startPosition(input({ highWatermark: value })), {
        name: "RangeError",
        message:
          `Cannot compute start position as 'highWatermark' must not exceed 9223372036854775807: current value is "${value}"`,
      });
    });
  }
});

Deno.test("startPosition() throws RangeError when logStartOffset exceeds highWatermark", () => {
  assert.throws(() => startPosition(input({ logStartOffset: "201", highWatermark: "200" })), {
    name: "RangeError",
    message:
      `Cannot compute start position as 'logStartOffset' must not exceed 'highWatermark': current values are "201" and "200"`,
  });
});

Deno.test("startPosition() throws TypeError for an unknown autoOffsetReset", async (t) => {
  for (const value of ["EARLIEST", "none", "", undefined]) {
    await t.step(JSON.stringify(value) ?? "undefined", () => {
      assert.throws(
        () => startPosition(input({ autoOffsetReset: value as unknown as "earliest" })),
        {
          name: "TypeError",
          message:
            `Cannot compute start position as 'autoOffsetReset' must be "earliest" or "latest": current value is ${
              value === undefined ? "undefined" : JSON.stringify(value)
            }`,
        },
      );
    });
  }
});

Deno.test("startPosition() throws TypeError for flags that are not booleans", async (t) => {
  for (const name of ["resetOffsetOnStart", "heldAtStart"] as const) {
    await t.step(name, () => {
      assert.throws(() => startPosition(input({ [name]: "true" as unknown as boolean })), {
        name: "TypeError",
        message:
          `Cannot compute start position as '${name}' must be a boolean: current value is "true"`,
      });
      assert.throws(() => startPosition(input({ [name]: 1 as unknown as boolean })), TypeError);
    });
  }
});

Deno.test("startPosition() throws TypeError when the input is not an object", () => {
  assert.throws(() => startPosition(null as unknown as StartPositionInput), {
    name: "TypeError",
    message: "Cannot compute start position as 'input' must be an object: current value is null",
  });
});

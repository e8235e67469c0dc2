import assert from "node:assert/strict";
import { CommitTracker } from "../../../src/offsets/commit_tracker.ts";

function range(from: number, to: number): string[] {
  const result: string[] = [];
  for (let offset = from; offset <= to; offset++) result.push(String(offset));
  return result;
}

Deno.test("CommitTracker.pending() commits the offset after the last finished message", () => {
  const tracker = new CommitTracker();
  tracker.seed(0, "0");
  for (const offset of range(0, 4)) tracker.begin(0, offset);
  for (const offset of range(0, 4)) tracker.finish(0, offset);
  assert.deepEqual(tracker.pending(), [{ partition: 0, offset: "5" }]);
  assert.equal(tracker.processed(0), "4");
});

Deno.test("CommitTracker.pending() reports nothing while nothing moved past the committed position", async (t) => {
  await t.step("a new tracker", () => {
    assert.deepEqual(new CommitTracker().pending(), []);
  });
  await t.step("a partition seeded at its committed offset", () => {
    const tracker = new CommitTracker();
    tracker.seed(0, "42");
    assert.deepEqual(tracker.pending(), []);
  });
  await t.step("a seeded partition whose first message is in flight", () => {
    const tracker = new CommitTracker();
    tracker.seed(0, "42");
    tracker.begin(0, "42");
    assert.deepEqual(tracker.pending(), []);
  });
  await t.step("an unseeded partition whose messages are all in flight", () => {
    const tracker = new CommitTracker();
    tracker.begin(0, "42");
    tracker.begin(0, "43");
    tracker.finish(0, "43");
    assert.deepEqual(tracker.pending(), []);
    assert.equal(tracker.processed(0), null);
  });
});

Deno.test("CommitTracker.pending() is idempotent until progress or a commit", () => {
  const tracker = new CommitTracker();
  tracker.seed(0, "0");
  tracker.begin(0, "0");
  tracker.finish(0, "0");
  const first = tracker.pending();
  assert.deepEqual(first, [{ partition: 0, offset: "1" }]);
  assert.deepEqual(tracker.pending(), first);
  assert.deepEqual(tracker.pending(), first);
  tracker.markCommitted(first);
  assert.deepEqual(tracker.pending(), []);
  assert.deepEqual(tracker.pending(), []);
});

Deno.test("CommitTracker.pending() never passes an unfinished message", async (t) => {
  await t.step("a later message finished first", () => {
    const tracker = new CommitTracker();
    tracker.seed(0, "10");
    for (const offset of range(10, 14)) tracker.begin(0, offset);
    for (const offset of ["14", "13", "12", "11"]) tracker.finish(0, offset);
    assert.deepEqual(tracker.pending(), []);
    assert.equal(tracker.processed(0), null);
    tracker.finish(0, "10");
    assert.deepEqual(tracker.pending(), [{ partition: 0, offset: "15" }]);
    assert.equal(tracker.processed(0), "14");
  });
  await t.step("a hole in the middle holds the commit at the hole", () => {
    const tracker = new CommitTracker();
    tracker.seed(0, "0");
    for (const offset of range(0, 9)) tracker.begin(0, offset);
    for (const offset of range(0, 9)) if (offset !== "6") tracker.finish(0, offset);
    assert.deepEqual(tracker.pending(), [{ partition: 0, offset: "6" }]);
    assert.equal(tracker.processed(0), "5");
    assert.equal(tracker.inFlight(), 1);
    tracker.finish(0, "6");
    assert.deepEqual(tracker.pending(), [{ partition: 0, offset: "10" }]);
    assert.equal(tracker.processed(0), "9");
  });
  await t.step("finishing in every order of four messages", () => {
    for (const order of permutations(["0", "1", "2", "3"])) {
      const tracker = new CommitTracker();
      tracker.seed(0, "0");
      for (const offset of range(0, 3)) tracker.begin(0, offset);
      const finished = new Set<string>();
      for (const offset of order) {
        tracker.finish(0, offset);
        finished.add(offset);
        let expected = 0;
        while (finished.has(String(expected))) expected++;
        const pending = tracker.pending();
        if (expected === 0) assert.deepEqual(pending, [], order.join());
        else assert.deepEqual(pending, [{ partition: 0, offset: String(expected) }], order.join());
      }
    }
  });
});

Deno.test("CommitTracker.pending() skips offsets that were never begun", async (t) => {
  await t.step("5 and 7 finished, 6 never existed: commit 8", () => {
    const tracker = new CommitTracker();
    tracker.seed(0, "5");
    tracker.begin(0, "5");
    tracker.begin(0, "7");
    tracker.finish(0, "7");
    tracker.finish(0, "5");
    assert.deepEqual(tracker.pending(), [{ partition: 0, offset: "8" }]);
    assert.equal(tracker.processed(0), "7");
  });
  await t.step("5 finished, 7 in flight: commit 7", () => {
    const tracker = new CommitTracker();
    tracker.seed(0, "5");
    tracker.begin(0, "5");
    tracker.begin(0, "7");
    tracker.finish(0, "5");
    assert.deepEqual(tracker.pending(), [{ partition: 0, offset: "7" }]);
    assert.equal(tracker.processed(0), "5");
  });
  await t.step("first message after the seeded position, in flight: commit up to it", () => {
    // Offsets 10 and 11 are transaction markers; the fetch from 10 returned 12 first.
    const tracker = new CommitTracker();
    tracker.seed(0, "10");
    tracker.begin(0, "12");
    assert.deepEqual(tracker.pending(), [{ partition: 0, offset: "12" }]);
    assert.equal(tracker.processed(0), null);
  });
  await t.step("large gaps", () => {
    const tracker = new CommitTracker();
    tracker.begin(0, "1");
    tracker.begin(0, "1000000");
    tracker.begin(0, "9007199254740993");
    tracker.finish(0, "1000000");
    tracker.finish(0, "9007199254740993");
    assert.deepEqual(tracker.pending(), []);
    tracker.finish(0, "1");
    assert.deepEqual(tracker.pending(), [{ partition: 0, offset: "9007199254740994" }]);
  });
});

Deno.test("CommitTracker.pending() tracks partitions independently", () => {
  const tracker = new CommitTracker();
  tracker.seed(2, "100");
  tracker.seed(0, "0");
  tracker.seed(1, "50");
  tracker.begin(0, "0");
  tracker.begin(1, "50");
  tracker.begin(2, "100");
  tracker.begin(0, "1");
  tracker.finish(2, "100");
  tracker.finish(0, "1");
  assert.deepEqual(tracker.pending(), [{ partition: 2, offset: "101" }]);
  tracker.finish(1, "50");
  tracker.finish(0, "0");
  assert.deepEqual(tracker.pending(), [
    { partition: 0, offset: "2" },
    { partition: 1, offset: "51" },
    { partition: 2, offset: "101" },
  ]);
  tracker.markCommitted([{ partition: 1, offset: "51" }]);
  assert.deepEqual(tracker.pending(), [
    { partition: 0, offset: "2" },
    { partition: 2, offset: "101" },
  ]);
});

Deno.test("CommitTracker.pending() reports an unseeded partition once its first message finished", () => {
  const tracker = new CommitTracker();
  tracker.begin(0, "7");
  tracker.begin(0, "8");
  assert.deepEqual(tracker.pending(), []);
  tracker.finish(0, "7");
  assert.deepEqual(tracker.pending(), [{ partition: 0, offset: "8" }]);
  assert.equal(tracker.committed(0), null);
});

Deno.test("CommitTracker.seed() with commit: true reports the seeded position until it is committed", () => {
  const tracker = new CommitTracker();
  tracker.seed(0, "0", { commit: true });
  assert.deepEqual(tracker.pending(), [{ partition: 0, offset: "0" }]);
  assert.equal(tracker.committed(0), null);
  tracker.markCommitted([{ partition: 0, offset: "0" }]);
  assert.deepEqual(tracker.pending(), []);
  assert.equal(tracker.committed(0), "0");
});

Deno.test("CommitTracker.seed() with commit: true reports a reset that moves backwards", () => {
  const tracker = new CommitTracker();
  tracker.seed(0, "500");
  tracker.begin(0, "500");
  tracker.finish(0, "500");
  tracker.markCommitted(tracker.pending());
  assert.equal(tracker.committed(0), "501");
  tracker.seed(0, "0", { commit: true });
  assert.deepEqual(tracker.pending(), [{ partition: 0, offset: "0" }]);
  assert.equal(tracker.processed(0), null);
  tracker.begin(0, "0");
});

Deno.test("CommitTracker.seed() prevents committing or beginning below the seeded position", () => {
  const tracker = new CommitTracker();
  tracker.seed(0, "100");
  assert.throws(() => tracker.begin(0, "99"), {
    name: "RangeError",
    message:
      `Cannot begin message as 'offset' must not be below the seeded position 100 of partition 0: current value is "99"`,
  });
  tracker.begin(0, "100");
  tracker.finish(0, "100");
  assert.deepEqual(tracker.pending(), [{ partition: 0, offset: "101" }]);
});

Deno.test("CommitTracker.seed() throws while the partition has messages in flight", () => {
  const tracker = new CommitTracker();
  tracker.begin(3, "1");
  tracker.begin(3, "2");
  assert.throws(() => tracker.seed(3, "0"), {
    name: "Error",
    message:
      "Cannot seed partition 3 as it has 2 message(s) in flight: finish them or revoke the partition first",
  });
  tracker.finish(3, "1");
  tracker.finish(3, "2");
  tracker.seed(3, "0");
  assert.equal(tracker.committed(3), "0");
  tracker.begin(3, "0");
});

Deno.test("CommitTracker.markCommitted() ignores superseded commits", () => {
  const tracker = new CommitTracker();
  tracker.seed(0, "0");
  for (const offset of range(0, 9)) tracker.begin(0, offset);
  for (const offset of range(0, 4)) tracker.finish(0, offset);
  const early = tracker.pending();
  assert.deepEqual(early, [{ partition: 0, offset: "5" }]);
  for (const offset of range(5, 9)) tracker.finish(0, offset);
  const late = tracker.pending();
  assert.deepEqual(late, [{ partition: 0, offset: "10" }]);
  // The later commit is acknowledged first.
  tracker.markCommitted(late);
  tracker.markCommitted(early);
  assert.equal(tracker.committed(0), "10");
  assert.deepEqual(tracker.pending(), []);
});

Deno.test("CommitTracker.markCommitted() of an older commit keeps the newer progress pending", () => {
  const tracker = new CommitTracker();
  tracker.seed(0, "0");
  tracker.begin(0, "0");
  tracker.begin(0, "1");
  tracker.finish(0, "0");
  const early = tracker.pending();
  tracker.finish(0, "1");
  tracker.markCommitted(early);
  assert.equal(tracker.committed(0), "1");
  assert.deepEqual(tracker.pending(), [{ partition: 0, offset: "2" }]);
});

Deno.test("CommitTracker.markCommitted() ignores partitions that are not tracked", () => {
  const tracker = new CommitTracker();
  tracker.markCommitted([{ partition: 9, offset: "5" }]);
  assert.equal(tracker.committed(9), null);
  assert.deepEqual(tracker.pending(), []);
});

Deno.test("CommitTracker.markCommitted() validates every entry before recording any", () => {
  const tracker = new CommitTracker();
  tracker.seed(0, "0", { commit: true });
  assert.throws(
    () =>
      tracker.markCommitted([
        { partition: 0, offset: "0" },
        { partition: 1, offset: "x" },
      ]),
    {
      name: "TypeError",
      message:
        `Cannot mark offsets committed as 'offset' must be a non-negative integer string: current value is "x"`,
    },
  );
  assert.equal(tracker.committed(0), null);
});

Deno.test("CommitTracker.finish() returns false for messages that are not in flight", async (t) => {
  const tracker = new CommitTracker();
  tracker.seed(0, "0");
  tracker.begin(0, "0");
  tracker.begin(0, "2");
  tracker.begin(0, "3");
  await t.step("an unknown partition", () => assert.equal(tracker.finish(1, "0"), false));
  await t.step("an offset never begun, inside the range", () => {
    assert.equal(tracker.finish(0, "1"), false);
  });
  await t.step("an offset never begun, above the range", () => {
    assert.equal(tracker.finish(0, "4"), false);
  });
  await t.step("an offset finished twice, out of order", () => {
    assert.equal(tracker.finish(0, "3"), true);
    assert.equal(tracker.finish(0, "3"), false);
  });
  await t.step("an offset finished twice, at the head", () => {
    assert.equal(tracker.finish(0, "0"), true);
    assert.equal(tracker.finish(0, "0"), false);
  });
  await t.step("nothing changed", () => {
    assert.equal(tracker.inFlight(), 1);
    assert.deepEqual(tracker.pending(), [{ partition: 0, offset: "2" }]);
  });
});

Deno.test("CommitTracker.finish() accepts offsets with leading zeros", () => {
  const tracker = new CommitTracker();
  tracker.begin(0, "0010");
  assert.equal(tracker.finish(0, "10"), true);
  assert.equal(tracker.processed(0), "10");
});

Deno.test("CommitTracker.begin() requires increasing offsets within a partition", () => {
  const tracker = new CommitTracker();
  tracker.begin(0, "10");
  tracker.begin(1, "3");
  assert.throws(() => tracker.begin(0, "10"), {
    name: "RangeError",
    message:
      `Cannot begin message as 'offset' must be greater than the last begun offset 10 of partition 0: current value is "10"`,
  });
  assert.throws(() => tracker.begin(0, "9"), RangeError);
  tracker.finish(0, "10");
  assert.throws(() => tracker.begin(0, "10"), RangeError);
  tracker.begin(0, "11");
  assert.equal(tracker.inFlight(), 2);
});

Deno.test("CommitTracker.revoke() forgets partitions and their messages in flight", () => {
  const tracker = new CommitTracker();
  tracker.seed(0, "0");
  tracker.seed(1, "0");
  tracker.begin(0, "0");
  tracker.begin(0, "1");
  tracker.begin(1, "0");
  tracker.finish(0, "0");
  tracker.finish(1, "0");
  tracker.revoke([0, 5]);
  assert.equal(tracker.inFlight(), 0);
  assert.equal(tracker.inFlight(0), 0);
  assert.equal(tracker.processed(0), null);
  assert.equal(tracker.committed(0), null);
  assert.deepEqual(tracker.pending(), [{ partition: 1, offset: "1" }]);
  assert.equal(tracker.finish(0, "1"), false);
  // Assigned again: tracked afresh.
  tracker.seed(0, "1");
  tracker.begin(0, "1");
  assert.equal(tracker.inFlight(0), 1);
  assert.equal(tracker.committed(0), "1");
});

Deno.test("CommitTracker.inFlight() counts messages begun and not finished", () => {
  const tracker = new CommitTracker();
  assert.equal(tracker.inFlight(), 0);
  tracker.begin(0, "0");
  tracker.begin(0, "1");
  tracker.begin(1, "0");
  assert.equal(tracker.inFlight(), 3);
  assert.equal(tracker.inFlight(0), 2);
  assert.equal(tracker.inFlight(1), 1);
  assert.equal(tracker.inFlight(2), 0);
  tracker.finish(0, "1");
  assert.equal(tracker.inFlight(), 2);
  assert.equal(tracker.inFlight(0), 1);
  tracker.finish(0, "0");
  tracker.finish(1, "0");
  assert.equal(tracker.inFlight(), 0);
});

Deno.test("CommitTracker handles offsets above 2^53 exactly", () => {
  const tracker = new CommitTracker();
  tracker.seed(0, "9007199254740992");
  tracker.begin(0, "9007199254740992");
  tracker.begin(0, "9007199254740993");
  tracker.begin(0, "9007199254740994");
  tracker.finish(0, "9007199254740993");
  assert.deepEqual(tracker.pending(), []);
  tracker.finish(0, "9007199254740992");
  assert.deepEqual(tracker.pending(), [{ partition: 0, offset: "9007199254740994" }]);
  assert.equal(tracker.processed(0), "9007199254740993");
  tracker.finish(0, "9007199254740994");
  assert.deepEqual(tracker.pending(), [{ partition: 0, offset: "9007199254740995" }]);
  tracker.begin(0, "9223372036854775806");
  tracker.finish(0, "9223372036854775806");
  assert.deepEqual(tracker.pending(), [{ partition: 0, offset: "9223372036854775807" }]);
});

Deno.test("CommitTracker handles offsets crossing a power of ten", () => {
  const tracker = new CommitTracker();
  tracker.seed(0, "98");
  for (const offset of range(98, 101)) tracker.begin(0, offset);
  tracker.finish(0, "100");
  tracker.finish(0, "101");
  tracker.finish(0, "98");
  assert.deepEqual(tracker.pending(), [{ partition: 0, offset: "99" }]);
  tracker.finish(0, "99");
  assert.deepEqual(tracker.pending(), [{ partition: 0, offset: "102" }]);
});

Deno.test("CommitTracker keeps its place when dropping finished messages from a long queue", () => {
  const tracker = new CommitTracker();
  tracker.seed(0, "0");
  for (const offset of range(0, 4999)) tracker.begin(0, offset);
  for (const offset of range(0, 2999)) {
    tracker.finish(0, offset);
    assert.deepEqual(tracker.pending(), [{ partition: 0, offset: String(Number(offset) + 1) }]);
  }
  assert.equal(tracker.finish(0, "4999"), true);
  assert.equal(tracker.finish(0, "2999"), false);
  assert.equal(tracker.finish(0, "3500"), true);
  assert.equal(tracker.inFlight(), 1998);
  for (const offset of range(3000, 4998)) if (offset !== "3500") tracker.finish(0, offset);
  assert.deepEqual(tracker.pending(), [{ partition: 0, offset: "5000" }]);
  assert.equal(tracker.processed(0), "4999");
  assert.equal(tracker.inFlight(), 0);
});

Deno.test("CommitTracker agrees with a naive model under random operations", () => {
  const random = mulberry32(20240611);
  for (let round = 0; round < 50; round++) {
    const tracker = new CommitTracker();
    // Per partition: every begun offset with its finished flag, the seed and the last commit.
    const model = new Map<
      number,
      { begun: Array<{ offset: number; finished: boolean }>; seed: number; committed: number }
    >();
    let snapshots: Array<Array<{ partition: number; offset: string }>> = [];
    for (let partition = 0; partition < 3; partition++) {
      const seed = Math.floor(random() * 100);
      tracker.seed(partition, String(seed));
      model.set(partition, { begun: [], seed, committed: seed });
    }
    for (let step = 0; step < 400; step++) {
      const partition = Math.floor(random() * 3);
      const state = model.get(partition)!;
      const action = random();
      if (action < 0.45) {
        const last = state.begun.at(-1)?.offset ?? state.seed - 1;
        const offset = last + 1 + (random() < 0.2 ? Math.floor(random() * 5) : 0);
        tracker.begin(partition, String(offset));
        state.begun.push({ offset, finished: false });
      } else if (action < 0.85) {
        const open = state.begun.filter((entry) => !entry.finished);
        const entry = open[Math.floor(random() * open.length)];
        if (entry !== undefined) {
          assert.equal(tracker.finish(partition, String(entry.offset)), true);
          entry.finished = true;
        }
      } else if (action < 0.95) {
        snapshots.push(tracker.pending());
      } else if (snapshots.length > 0) {
        // Commits may be acknowledged out of order.
        const index = Math.floor(random() * snapshots.length);
        const snapshot = snapshots[index]!;
        snapshots = [...snapshots.slice(0, index), ...snapshots.slice(index + 1)];
        tracker.markCommitted(snapshot);
        for (const { partition, offset } of snapshot) {
          const entry = model.get(partition)!;
          entry.committed = Math.max(entry.committed, Number(offset));
        }
      }
      const expected = [];
      let inFlight = 0;
      for (const [partition, entry] of model) {
        const firstOpen = entry.begun.find((begun) => !begun.finished);
        inFlight += entry.begun.filter((begun) => !begun.finished).length;
        const position = firstOpen?.offset ??
          (entry.begun.length > 0 ? entry.begun.at(-1)!.offset + 1 : entry.seed);
        if (position > entry.committed) expected.push({ partition, offset: String(position) });
        let processed: number | null = null;
        for (const begun of entry.begun) {
          if (!begun.finished) break;
          processed = begun.offset;
        }
        assert.equal(tracker.processed(partition), processed === null ? null : String(processed));
        assert.equal(tracker.committed(partition), String(entry.committed));
      }
      assert.deepEqual(tracker.pending(), expected, `round ${round}, step ${step}`);
      assert.equal(tracker.inFlight(), inFlight);
    }
  }
});

Deno.test("CommitTracker validates its arguments", async (t) => {
  const tracker = new CommitTracker();
  await t.step("a partition that is not a number", () => {
    assert.throws(() => tracker.begin("0" as unknown as number, "1"), {
      name: "TypeError",
      message:
        `Cannot begin message as 'partition' must be a non-negative integer: current value is "0"`,
    });
  });
  await t.step("a partition out of range", () => {
    for (const partition of [-1, 1.5, NaN, Infinity, 2 ** 31]) {
      assert.throws(() => tracker.finish(partition, "1"), {
        name: "RangeError",
        message:
          `Cannot finish message as 'partition' must be a non-negative integer: current value is ${partition}`,
      });
    }
  });
  await t.step("an offset that is not an integer string", () => {
    assert.throws(() => tracker.begin(0, 5 as unknown as string), {
      name: "TypeError",
      message:
        "Cannot begin message as 'offset' must be a non-negative integer string: current value is 5",
    });
    assert.throws(() => tracker.seed(0, "-1"), {
      name: "RangeError",
      message:
        `Cannot seed partition as 'offset' must be a non-negative integer string: current value is "-1"`,
    });
  });
  await t.step("seed options", () => {
    assert.throws(() => tracker.seed(0, "1", { commit: "yes" as unknown as boolean }), {
      name: "TypeError",
      message:
        `Cannot seed partition as 'options.commit' must be a boolean: current value is "yes"`,
    });
    assert.throws(() => tracker.seed(0, "1", null as unknown as { commit: boolean }), TypeError);
  });
  await t.step("other methods", () => {
    assert.throws(() => tracker.processed(-1), RangeError);
    assert.throws(() => tracker.committed(-1), RangeError);
    assert.throws(() => tracker.inFlight(-1), RangeError);
    assert.throws(() => tracker.revoke([0, -1]), RangeError);
    assert.throws(
      () => tracker.markCommitted([null as unknown as { partition: number; offset: string }]),
      TypeError,
    );
  });
  await t.step("nothing was recorded by the failed calls", () => {
    assert.equal(tracker.inFlight(), 0);
    assert.deepEqual(tracker.pending(), []);
  });
});

Deno.test("CommitTracker completes 1,000,000 begin/finish pairs", async (t) => {
  await t.step("finished in order", () => {
    const tracker = new CommitTracker();
    tracker.seed(0, "0");
    for (let offset = 0; offset < 1_000_000; offset++) {
      const value = String(offset);
      tracker.begin(0, value);
      tracker.finish(0, value);
    }
    assert.deepEqual(tracker.pending(), [{ partition: 0, offset: "1000000" }]);
    assert.equal(tracker.inFlight(), 0);
  });
  await t.step("finished in windows of 1000, newest first, across 4 partitions", () => {
    const tracker = new CommitTracker();
    const window = 1000;
    for (let start = 0; start < 250_000; start += window) {
      for (let partition = 0; partition < 4; partition++) {
        for (let offset = start; offset < start + window; offset++) {
          tracker.begin(partition, String(offset));
        }
      }
      for (let partition = 0; partition < 4; partition++) {
        for (let offset = start + window - 1; offset >= start; offset--) {
          assert.ok(tracker.finish(partition, String(offset)));
        }
      }
    }
    assert.equal(tracker.inFlight(), 0);
    assert.deepEqual(tracker.pending(), [
      { partition: 0, offset: "250000" },
      { partition: 1, offset: "250000" },
      { partition: 2, offset: "250000" },
      { partition: 3, offset: "250000" },
    ]);
  });
  await t.step("a long-running message holding 1,000,000 finished ones behind it", () => {
    const tracker = new CommitTracker();
    tracker.seed(0, "0");
    tracker.begin(0, "0");
    for (let offset = 1; offset <= 1_000_000; offset++) {
      const value = String(offset);
      tracker.begin(0, value);
      tracker.finish(0, value);
    }
    assert.deepEqual(tracker.pending(), []);
    assert.equal(tracker.inFlight(), 1);
    tracker.finish(0, "0");
    assert.deepEqual(tracker.pending(), [{ partition: 0, offset: "1000001" }]);
  });
});

function* permutations<T>(items: T[]): Generator<T[]> {
  if (items.length <= 1) {
    yield items;
    return;
  }
  for (let i = 0; i < items.length; i++) {
    const rest = [...items.slice(0, i), ...items.slice(i + 1)];
    for (const tail of permutations(rest)) yield [items[i]!, ...tail];
  }
}

/** A small deterministic pseudo-random generator, so that failures can be replayed. */
function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

Deno.test("CommitTracker.newerCommits() returns the recorded commit of each partition an offset lies below", () => {
  const tracker = new CommitTracker();
  tracker.seed(0, "10");
  tracker.seed(1, "10");
  tracker.markCommitted([{ partition: 0, offset: "30" }, { partition: 1, offset: "12" }]);
  assert.deepEqual(
    tracker.newerCommits([
      { partition: 0, offset: "24" },
      { partition: 1, offset: "12" },
      { partition: 2, offset: "5" }, // not tracked
    ]),
    [{ partition: 0, offset: "30" }],
  );
  assert.deepEqual(tracker.newerCommits([{ partition: 0, offset: "31" }]), []);
  assert.throws(
    () => tracker.newerCommits([{ partition: 0, offset: "-1" }]),
    /Cannot find newer commits as 'offset' must be a non-negative integer string/,
  );
});

Deno.test("CommitTracker.finishedBeyond() lists the finished offsets after the oldest unfinished one, in order", () => {
  const tracker = new CommitTracker();
  tracker.seed(0, "100");
  for (const offset of ["100", "101", "103", "104", "105", "107"]) tracker.begin(0, offset);
  for (const offset of ["107", "101", "104"]) tracker.finish(0, offset);
  assert.equal(tracker.position(0), "100");
  assert.deepEqual(tracker.finishedBeyond(0), ["101", "104", "107"]);
  tracker.finish(0, "100"); // 101 finished too: the oldest unfinished is 103
  assert.equal(tracker.position(0), "103");
  assert.deepEqual(tracker.finishedBeyond(0), ["104", "107"]);
  tracker.finish(0, "103");
  tracker.finish(0, "105");
  assert.equal(tracker.position(0), "108");
  assert.deepEqual(tracker.finishedBeyond(0), []);
  assert.deepEqual(tracker.finishedBeyond(1), [], "an unknown partition lists nothing");
  assert.equal(tracker.position(1), null);
});

Deno.test("CommitTracker.finishedBeyond() stays right across compaction of a long queue", () => {
  const tracker = new CommitTracker();
  tracker.seed(0, "0");
  for (let i = 0; i < 5000; i++) tracker.begin(0, String(i));
  // Finish all but 3000 and every 7th after it: the head passes 1024 and the queue compacts.
  for (let i = 0; i < 5000; i++) {
    if (i !== 3000 && (i < 3000 || i % 7 === 0)) tracker.finish(0, String(i));
  }
  assert.equal(tracker.position(0), "3000");
  const expected = [];
  for (let i = 3001; i < 5000; i++) if (i % 7 === 0) expected.push(String(i));
  assert.deepEqual(tracker.finishedBeyond(0), expected);
});

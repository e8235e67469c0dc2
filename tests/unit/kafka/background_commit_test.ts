import assert from "node:assert/strict";
import { BackgroundCommits } from "../../../src/kafka/background_commit.ts";

/** A commit whose completion the test controls. */
function gate() {
  let open!: () => void;
  let fail!: (e: unknown) => void;
  const done = new Promise<void>((resolve, reject) => ((open = resolve), (fail = reject)));
  return { done, open, fail };
}

Deno.test("BackgroundCommits: request() does not wait; requests during a commit fold into one more", async () => {
  const gates: Array<ReturnType<typeof gate>> = [];
  const commits = new BackgroundCommits({
    commit: () => {
      const g = gate();
      gates.push(g);
      return g.done;
    },
    enabled: () => true,
    onError: () => assert.fail("no error expected"),
    retryMs: 60_000,
  });
  commits.request();
  assert.equal(gates.length, 1, "the first request starts a commit at once");
  commits.request();
  commits.request();
  commits.request();
  assert.equal(gates.length, 1, "one commit at a time");
  gates[0]!.open();
  await new Promise((r) => setTimeout(r, 0));
  assert.equal(gates.length, 2, "the three requests made meanwhile became one commit");
  gates[1]!.open();
  await commits.idle();
  assert.equal(gates.length, 2);
});

Deno.test("BackgroundCommits: a failed commit is reported and the next request commits again", async () => {
  const errors: unknown[] = [];
  let calls = 0;
  const commits = new BackgroundCommits({
    commit:
      () => (++calls === 1 ? Promise.reject(new Error("NOT_COORDINATOR")) : Promise.resolve()),
    enabled: () => true,
    onError: (e) => errors.push(e) > 0,
    retryMs: 60_000,
  });
  commits.request();
  await commits.idle();
  assert.equal(errors.length, 1);
  assert.match(String(errors[0]), /NOT_COORDINATOR/);
  commits.request();
  await commits.idle();
  assert.equal(calls, 2);
  commits.stop();
});

Deno.test("BackgroundCommits: a failed commit is tried again after retryMs with no request, until one succeeds", async () => {
  let calls = 0;
  const commits = new BackgroundCommits({
    commit: () => (++calls <= 2 ? Promise.reject(new Error("timeout")) : Promise.resolve()),
    enabled: () => true,
    onError: () => true,
    retryMs: 10,
  });
  commits.request();
  await commits.idle();
  assert.equal(calls, 1);
  await new Promise((r) => setTimeout(r, 100));
  await commits.idle();
  assert.equal(calls, 3, "tried again twice, then it succeeded and nothing more was tried");
});

Deno.test("BackgroundCommits: no retry when onError says it is pointless, after stop(), or once disabled", async () => {
  for (const end of ["pointless", "stop", "disabled"] as const) {
    let calls = 0;
    let enabled = true;
    const commits = new BackgroundCommits({
      commit: () => (calls++, Promise.reject(new Error("refused"))),
      enabled: () => enabled,
      onError: () => end !== "pointless",
      retryMs: 10,
    });
    commits.request();
    await commits.idle();
    if (end === "stop") commits.stop();
    if (end === "disabled") enabled = false;
    await new Promise((r) => setTimeout(r, 60));
    assert.equal(calls, 1, end);
    commits.stop();
  }
});

Deno.test("BackgroundCommits rejects a negative retryMs", () => {
  assert.throws(
    () =>
      new BackgroundCommits({
        commit: () => Promise.resolve(),
        enabled: () => true,
        onError: () => true,
        retryMs: -1,
      }),
    /'retryMs' must be non-negative: current value is -1/,
  );
});

Deno.test("BackgroundCommits: nothing starts while disabled, and a pending fold stops once disabled", async () => {
  let enabled = false;
  let calls = 0;
  const first = gate();
  const commits = new BackgroundCommits({
    commit: () => (++calls === 1 ? first.done : Promise.resolve()),
    enabled: () => enabled,
    onError: () => true,
    retryMs: 60_000,
  });
  commits.request();
  assert.equal(calls, 0, "disabled (manual mode, stopping or revoking): no commit");
  enabled = true;
  commits.request();
  commits.request(); // folded
  enabled = false; // e.g. the session started revoking: its hook commits instead
  first.open();
  await commits.idle();
  assert.equal(calls, 1);
});

Deno.test("BackgroundCommits: a request made just as a commit ends is never lost, at any turn of the microtask queue", async () => {
  for (let turns = 0; turns < 8; turns++) {
    let calls = 0;
    const first = gate();
    const commits = new BackgroundCommits({
      commit: () => ++calls === 1 ? first.done : Promise.resolve(),
      enabled: () => true,
      onError: () => assert.fail("no error expected"),
      retryMs: 60_000,
    });
    commits.request();
    first.open();
    for (let i = 0; i < turns; i++) await Promise.resolve();
    // Finished messages asked for their commit here: it must run, now or after the one running.
    commits.request();
    await new Promise((r) => setTimeout(r, 0));
    await commits.idle();
    assert.equal(calls, 2, `a request ${turns} microtasks after the commit ended`);
  }
});

Deno.test("BackgroundCommits: a commit that throws before it returns a promise is reported, and the next request commits again", async () => {
  let calls = 0;
  const errors: unknown[] = [];
  const commits = new BackgroundCommits({
    commit: () => {
      if (++calls === 1) throw new Error("thrown at once");
      return Promise.resolve();
    },
    enabled: () => true,
    onError: (error) => (errors.push(error), false),
    retryMs: 60_000,
  });
  commits.request();
  await commits.idle();
  assert.equal(errors.length, 1);
  commits.request();
  await commits.idle();
  assert.equal(calls, 2, "the runner cleared itself: the second request ran a commit");
});

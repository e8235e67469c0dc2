import assert from "node:assert/strict";
import { diffConfigs } from "../../../src/supervisor/config_diff.ts";
import {
  describeOutcome,
  diffOutcome,
  emptyOutcome,
} from "../../../src/supervisor/reload_result.ts";

const c = (name: string, definition = "d", replicas = 1) => ({
  name,
  definition,
  handler: "h",
  replicas,
});

Deno.test("describeOutcome() says what was added, removed, restarted and left alone", () => {
  const diff = diffConfigs(
    { kafka: "k", http: "h", consumers: [c("keep"), c("gone"), c("edit"), c("grow")] },
    { kafka: "k", http: "h2", consumers: [c("keep"), c("edit", "x"), c("grow", "d", 2), c("new")] },
  );
  const outcome = diffOutcome(diff);
  assert.deepEqual(outcome.restartReasons, { edit: ["definition"] });
  assert.equal(outcome.http, "changed");
  assert.equal(
    describeOutcome({ ...outcome, ok: true, applied: true, errors: [] }),
    "added new; removed gone; restarted edit (definition); scaled grow from 1 to 2 replicas; " +
      "http changed; left alone keep",
  );
});

Deno.test("describeOutcome() says why nothing was applied", () => {
  const error = { file: "c.yaml", line: 3, column: 5, path: "", message: "boom" };
  assert.equal(
    describeOutcome({ ...emptyOutcome(["a"]), ok: false, applied: false, errors: [error, error] }),
    "nothing applied: 2 problems in the file; every consumer keeps running as before",
  );
  assert.equal(
    describeOutcome({ ...emptyOutcome(["a"]), ok: true, applied: false, errors: [] }),
    "nothing applied: the file and handlers have no changes",
  );
});

Deno.test("diffOutcome() reports a kafka:-only restart as reconnected, not restarted", () => {
  const diff = diffConfigs(
    { kafka: "k", http: "h", consumers: [c("same"), c("edit")] },
    { kafka: "k2", http: "h", consumers: [c("same"), c("edit", "x")] },
  );
  const outcome = diffOutcome(diff);
  assert.deepEqual(outcome.restarted, ["edit"]);
  assert.deepEqual(outcome.reconnected, ["same"]);
  assert.deepEqual(outcome.restartReasons, { edit: ["definition", "kafka"] });
  assert.equal(
    describeOutcome({ ...outcome, ok: true, applied: true, errors: [] }),
    "kafka changed; restarted edit (definition, kafka); " +
      "reconnected same (resuming from committed offsets)",
  );
});

import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

const BUN = fileURLToPath(new URL("../../../node_modules/.bin/bun", import.meta.url));
const SCENARIO = fileURLToPath(new URL("./fixtures/watch_replaced.ts", import.meta.url));

/** Runs the scenario on a runtime and returns what it printed. */
async function scenario(command: string, args: string[]): Promise<Record<string, unknown>> {
  const { code, stdout, stderr } = await new Deno.Command(command, {
    args: [...args, SCENARIO],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(code, 0, new TextDecoder().decode(stderr));
  return JSON.parse(new TextDecoder().decode(stdout));
}

const EXPECTED = {
  sawA: true,
  sawB: true,
  sawC: true,
  sawD: true,
  rearmedAfterReplace: true,
  lost: [
    ["later", "the directory does not exist"],
    ["config", "the directory was removed or replaced"],
    ["linked", "the directory was replaced"],
  ],
};

Deno.test("runtime.watchDirectories() on Deno re-arms a watch whose directory was replaced, swapped behind a link, or did not exist yet, and reports the loss", async () => {
  assert.deepEqual(await scenario(Deno.execPath(), ["run", "-A"]), EXPECTED);
});

Deno.test({
  name:
    "runtime.watchDirectories() on Bun re-arms a watch whose directory was replaced, swapped behind a link, or did not exist yet, and reports the loss",
  ignore: !existsSync(BUN),
  fn: async () => {
    assert.deepEqual(await scenario(BUN, ["run"]), EXPECTED);
  },
});

import assert from "node:assert/strict";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseConfig } from "../../../src/config/parse.ts";

const EXAMPLES = fileURLToPath(new URL("../../../config/examples/", import.meta.url));

Deno.test("every config/examples/*.yaml is valid", async () => {
  const names = (await readdir(EXAMPLES)).filter((name) => name.endsWith(".yaml")).sort();
  assert.deepEqual(names, ["full.yaml", "many-consumers.yaml", "minimal.yaml", "simple-mode.yaml"]);
  const counts: Record<string, number> = {};
  for (const name of names) {
    const file = join(EXAMPLES, name);
    const config = parseConfig(await readFile(file, "utf8"), {
      file,
      env: { KAFKA_PASSWORD: "x" },
    });
    counts[name] = config.consumers.length;
  }
  assert.deepEqual(counts, {
    "full.yaml": 1,
    "many-consumers.yaml": 3,
    "minimal.yaml": 1,
    "simple-mode.yaml": 2,
  });
});

Deno.test("config/examples/full.yaml needs KAFKA_PASSWORD", async () => {
  const file = join(EXAMPLES, "full.yaml");
  const text = await readFile(file, "utf8");
  assert.throws(
    () => parseConfig(text, { file, env: {} }),
    /kafka\.sasl\.password: environment variable KAFKA_PASSWORD is not set: set KAFKA_PASSWORD/,
  );
});

import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { bundleWorker } from "../../../scripts/build.ts";
import { lazyValidator, type Validator } from "../../../src/kafka/platformatic/lazy_validators.ts";

Deno.test("lazyValidator() compiles on the first call, once", () => {
  let compiled = 0;
  const validate = lazyValidator(() => {
    compiled++;
    return (data: unknown) => typeof data === "string";
  });
  assert.equal(compiled, 0);
  assert.equal(validate("a"), true);
  assert.equal(validate(1), false);
  assert.equal(compiled, 1);
});

Deno.test("lazyValidator() forwards the arguments, `this` and each call's errors", () => {
  const seen: unknown[] = [];
  const compiledValidator: Validator = function (this: unknown, ...args: unknown[]) {
    seen.push(this, ...args);
    const valid = args[0] === "ok";
    compiledValidator.errors = valid ? null : [{ message: `bad ${args[0]}` }];
    return valid;
  };
  const validate = lazyValidator(() => compiledValidator);
  assert.equal(validate.errors, null);
  const context = { name: "ctx" };
  assert.equal(validate.call(context, "no", "extra"), false);
  assert.deepEqual(seen, [context, "no", "extra"]);
  assert.deepEqual(validate.errors, [{ message: "bad no" }]);
  assert.equal(validate("ok"), true);
  assert.equal(validate.errors, null);
});

Deno.test("loadPlatformatic() compiles none of the library's validators; a Consumer still checks its options", async () => {
  const worker = new Worker(new URL("./platformatic_load_worker.ts", import.meta.url), {
    type: "module",
  });
  try {
    const result = await new Promise<{
      afterLoad: number;
      afterConsumer: number;
      groupOptionsError: string;
      ownCompile: boolean;
    }>((resolve, reject) => {
      worker.onmessage = (event) => resolve(event.data);
      worker.onerror = (event) => {
        event.preventDefault();
        reject(new Error(event.message));
      };
    });
    // Loaded eagerly, the library compiles 38 validators and the meta-schema.
    assert.equal(result.afterLoad, 0);
    // The Consumer compiles the group options validator it calls, and nothing else.
    assert.ok(
      result.afterConsumer > 0 && result.afterConsumer < 10,
      `compiled ${result.afterConsumer}`,
    );
    assert.match(result.groupOptionsError, /\/options\/sessionTimeout must be >= 0/);
    assert.equal(result.ownCompile, true);
  } finally {
    worker.terminate();
  }
});

Deno.test("the worker bundle imports ajv from the package the library loads, not a copy of its own", async () => {
  const outdir = await Deno.makeTempDir({ prefix: "consumerd-bundle-" });
  try {
    await bundleWorker(fileURLToPath(new URL("../../../", import.meta.url)), outdir);
    let imports = 0;
    for await (const entry of Deno.readDir(outdir)) {
      const text = await Deno.readTextFile(join(outdir, entry.name));
      // A bundled copy: ajv's own class, which the engine's patch would not reach.
      assert.doesNotMatch(text, /class Ajv2020 extends/, entry.name);
      if (/from\s*"ajv\/dist\/2020\.js"/.test(text)) imports++;
    }
    assert.equal(imports, 1);
  } finally {
    await Deno.remove(outdir, { recursive: true });
  }
});

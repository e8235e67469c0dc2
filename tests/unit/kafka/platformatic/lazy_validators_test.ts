import assert from "node:assert/strict";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { packageWithBundle } from "../../../harness/bundle.ts";
import { BUNDLE_DIR } from "../../../../src/supervisor/worker_bundle.ts";
import {
  engineChecked,
  lazyAjv,
  lazyValidator,
  type LibraryAjv,
  type Validator,
} from "../../../../src/kafka/platformatic/lazy_ajv.ts";

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

/** What load_worker.ts reports. */
interface LoadReport {
  /** Whether the library's ajv is the bundle's stand-in (nothing of ajv created at load). */
  standIn: boolean;
  afterLoad: number;
  afterConsumer: number;
  /** The Consumer's error for options the library refuses, before `loadLibraryValidation()`. */
  errorBeforeValidation: string;
  /** The same, after it. */
  groupOptionsError: string;
  ownCompile: boolean;
}

/** Runs load_worker.ts in a fresh isolate, with the engine from `engine` (default: the sources). */
async function loadInWorker(engine = ""): Promise<LoadReport> {
  const worker = new Worker(new URL("./load_worker.ts", import.meta.url), {
    type: "module",
    name: engine,
  });
  try {
    return await new Promise<LoadReport>((resolve, reject) => {
      worker.onmessage = (event) => resolve(event.data);
      worker.onerror = (event) => {
        event.preventDefault();
        reject(new Error(event.message));
      };
    });
  } finally {
    worker.terminate();
  }
}

function assertLazy(result: LoadReport): void {
  assert.equal(result.standIn, false, "from its package, the library has its own ajv");
  // Loaded eagerly, the library compiles 38 validators and the meta-schema.
  assert.equal(result.afterLoad, 0);
  // The Consumer compiles the group options validator it calls, and nothing else.
  assert.ok(
    result.afterConsumer > 0 && result.afterConsumer < 10,
    `compiled ${result.afterConsumer}`,
  );
  assert.match(result.errorBeforeValidation, /\/options\/sessionTimeout must be >= 0/);
  assert.match(result.groupOptionsError, /\/options\/sessionTimeout must be >= 0/);
  assert.equal(result.ownCompile, true);
}

Deno.test("loadPlatformatic() compiles none of the library's validators; a Consumer still checks its options", async () => {
  assertLazy(await loadInWorker());
});

Deno.test("from the worker bundle: ajv is not even loaded at load; a Consumer refuses options it cannot check until it is", async () => {
  const pkg = await packageWithBundle();
  try {
    const dir = join(pkg, BUNDLE_DIR);
    const holders: string[] = [];
    let library = "";
    const chunks = new Map<string, string>();
    for await (const entry of Deno.readDir(dir)) {
      const text = await Deno.readTextFile(join(dir, entry.name));
      chunks.set(entry.name, text);
      if (/class Ajv2020 extends/.test(text)) holders.push(entry.name);
      assert.doesNotMatch(text, /from\s*"ajv[/"]/, `${entry.name} imports ajv from the package`);
      if (/^library-.*\.js$/.test(entry.name)) library = join(dir, entry.name);
    }
    assert.equal(holders.length, 1, "one copy of ajv in the bundle");
    // ajv's chunk is loaded only on demand: no chunk imports it at load (the build's own check,
    // ajvLoadedAtStart, reads the bundler's metafile; this reads the files a worker loads).
    const ajvChunk = holders[0]!.replaceAll(".", "\\.");
    for (const [name, text] of chunks) {
      assert.doesNotMatch(text, new RegExp(`(?:from|import)\\s*"\\./${ajvChunk}"`), name);
    }
    assert.notEqual(library, "", "the bundle has the engine's library module");
    const result = await loadInWorker(pathToFileURL(library).href);
    assert.equal(result.standIn, true, "the library's ajv is the stand-in");
    assert.match(
      result.errorBeforeValidation,
      /cannot check options the engine did not build.*loadLibraryValidation/,
      "options the engine did not mark are refused, not passed unchecked",
    );
    // The stand-in compiled the group options validator on its first call, through the real ajv.
    assert.match(result.groupOptionsError, /\/options\/sessionTimeout must be >= 0/);
  } finally {
    await Deno.remove(pkg, { recursive: true });
  }
});

Deno.test("lazyAjv() creates ajv when a validator first compiles, with the keywords added before", () => {
  const made: string[] = [];
  const create = () => {
    made.push("instance");
    const keywords: unknown[] = [];
    const ajv: LibraryAjv = {
      opts: { validateSchema: true },
      addKeyword: (definition) => keywords.push(definition),
      compile(schema) {
        made.push(
          `compile ${JSON.stringify(schema)} with ${keywords.length} keywords, checked: ${
            String(this.opts.validateSchema)
          }`,
        );
        const validate: Validator = (data) => {
          validate.errors = data === 1 ? null : [{ message: "not 1" }];
          return data === 1;
        };
        return validate;
      },
      errorsText: (errors) => `text of ${JSON.stringify(errors)}`,
    };
    return ajv;
  };
  const ajv = lazyAjv(create);
  ajv.addKeyword({ keyword: "a" });
  const validate = ajv.compile({ const: 1 });
  ajv.addKeyword({ keyword: "b" });
  assert.deepEqual(made, [], "nothing made until a validator runs");
  const options = engineChecked({ protocols: [{}] });
  assert.equal(validate(options), true, "options the engine checked pass without compiling");
  assert.deepEqual(made, []);
  assert.equal(validate(2), false);
  assert.deepEqual(validate.errors, [{ message: "not 1" }]);
  assert.equal(validate(1), true);
  assert.deepEqual(made, [
    "instance",
    'compile {"const":1} with 2 keywords, checked: false',
  ]);
  assert.equal(ajv.opts.validateSchema, true, "the meta-schema check is back on after compiling");
  assert.equal(ajv.errorsText([1]), "text of [1]");
  ajv.addKeyword({ keyword: "c" });
  ajv.compile({ const: 2 })(2);
  assert.equal(made.at(-1), 'compile {"const":2} with 3 keywords, checked: false');
  assert.equal(made.filter((m) => m === "instance").length, 1);
});

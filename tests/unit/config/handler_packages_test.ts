import assert from "node:assert/strict";
import { missingPackage, missingPackageProblem } from "../../../src/config/handler_packages.ts";

Deno.test("missingPackage() reads the unresolved package from Deno's and Bun's errors, and no relative import", () => {
  const cases: Array<[string, string | null]> = [
    ['Import "kafkajs" not a dependency and not in import map from "file:///h.ts"', "kafkajs"],
    [
      "Could not find a matching package for 'npm:left-pad@1' in the node_modules directory.",
      "npm:left-pad@1",
    ],
    ['Could not resolve "pg", but found it in a package.json. Deno expects…', "pg"],
    ["Cannot find package '@acme/price' imported from '/srv/h.ts'", "@acme/price"],
    ["Cannot find module 'pg/native' from '/srv/h.ts'", "pg/native"],
    ["Cannot find module './lib.ts' from '/srv/h.ts'", null],
    ['Module not found "file:///srv/lib.ts"', null],
    ["boom", null],
  ];
  for (const [message, expected] of cases) {
    assert.equal(missingPackage(new TypeError(message)), expected, message);
  }
});

Deno.test("missingPackageProblem() says where to install the package, and how npm: specifiers become bare imports", () => {
  const project = { projectRoot: "/srv/h", handlerDir: "/srv/h/src" };
  const none = { projectRoot: null, handlerDir: "/srv/h/src" };
  assert.equal(
    missingPackageProblem("pg/native", project),
    'the handler imports "pg/native", which its project does not have: run `npm install pg` in ' +
      "/srv/h (the directory of its package.json)",
  );
  assert.equal(
    missingPackageProblem("kafkajs", none),
    'the handler imports "kafkajs", which its project does not have: no package.json above it — ' +
      "create one in /srv/h/src (npm init -y) and run `npm install kafkajs` there",
  );
  assert.equal(
    missingPackageProblem("npm:@acme/price@^2.1/fast", project),
    'the handler imports "npm:@acme/price@^2.1/fast": a handler\'s packages come from the ' +
      "node_modules of its project, on every runtime — run `npm install @acme/price@^2.1` in " +
      '/srv/h (the directory of its package.json), and import "@acme/price/fast"',
  );
  assert.match(
    missingPackageProblem("npm:left-pad", none),
    /add a package\.json beside the handler, run `npm install left-pad` there/,
  );
});

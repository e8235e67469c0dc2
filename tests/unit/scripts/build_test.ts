import assert from "node:assert/strict";
import { join } from "node:path";
import {
  ajvLoadedAtStart,
  buildWorkerBundle,
  BUNDLE_ENTRIES,
  deferChunkImports,
  eagerFactories,
  lazyCrc32c,
  lazyLibraryAjv,
  libraryApiPromises,
  libraryBuiltinImports,
  libraryDebugColors,
  libraryInspect,
  libraryNetImports,
  libraryProcess,
  libraryWasmImports,
  minifiedChunk,
  rewireChunk,
} from "../../../scripts/build.ts";
import { packageCopy } from "../../harness/bundle.ts";

const CHUNK = [
  'import { createRequire } from "node:module";',
  "var __commonJS = (cb, mod) => () => (mod || cb((mod = { exports: {} }).exports, mod), mod.exports);",
  "var __require = /* @__PURE__ */ createRequire(import.meta.url);",
  'var require_x = __commonJS(() => { var { EventEmitter } = __require("events");',
  "  var level = (process.env.KAFKAJS_LOG_LEVEL || '').toUpperCase(); });",
  "",
].join("\n");

Deno.test("rewireChunk takes require from bundle_require.js and kafkajs's settings through bundleEnv", () => {
  const out = rewireChunk(CHUNK)!;
  assert.ok(
    out.startsWith(
      'import { bundleEnv as __bundleEnv, bundleRequire as __bundleRequire } from "./bundle_require.js";\n',
    ),
  );
  assert.ok(!out.includes("node:module"));
  assert.ok(!out.includes("createRequire"));
  assert.ok(out.includes("var __require = __bundleRequire;"));
  assert.ok(out.includes('__bundleEnv("KAFKAJS_LOG_LEVEL")'));
  assert.ok(!out.includes("process.env"));
});

Deno.test("rewireChunk leaves a chunk without require or kafkajs settings alone", () => {
  assert.equal(rewireChunk('import { x } from "./y.js";\nexport const z = x;\n'), null);
});

Deno.test("rewireChunk refuses a built-in that bundle_require.ts does not provide, and a changed prelude", () => {
  assert.throws(
    () => rewireChunk(CHUNK.replace('__require("events")', '__require("http2")')),
    /requires "http2"/,
  );
  assert.throws(
    () => rewireChunk(CHUNK.replace("createRequire(import.meta.url)", "createRequire(somewhere)")),
    /prelude not found/,
  );
  assert.throws(
    () => rewireChunk(CHUNK.replace('import { createRequire } from "node:module";\n', "")),
    /without the prelude/,
  );
});

Deno.test("rewireChunk rewires only reads of the global process.env.KAFKAJS_*", () => {
  const out = rewireChunk(
    "a = process.env.KAFKAJS_X; b = globalThis.process.env.KAFKAJS_Y; process.env.KAFKAJS_Z = 1;\n",
  )!;
  assert.ok(out.includes('a = __bundleEnv("KAFKAJS_X")'));
  assert.ok(out.includes("globalThis.process.env.KAFKAJS_Y"));
  assert.ok(out.includes("process.env.KAFKAJS_Z = 1"));
});

Deno.test("eagerFactories parenthesizes each CommonJS module function, and nothing else", () => {
  const chunk = [
    "var require_a = __commonJS(function(exports, module) {",
    "  var f = function(x) {",
    "    return x;",
    "  };",
    "",
    "  module.exports = { f };",
    "});",
    "var require_b$1 = __commonJS(function(exports) {",
    "  exports.b = 1;",
    "});",
    "export default require_a();",
  ].join("\n");
  assert.equal(
    eagerFactories(chunk),
    chunk
      .replace("require_a = __commonJS(function(", "require_a = __commonJS((function(")
      .replace("require_b$1 = __commonJS(function(", "require_b$1 = __commonJS((function(")
      .replaceAll("\n});", "\n}));"),
  );
  assert.equal(eagerFactories("export const x = 1;\n"), "export const x = 1;\n");
});

Deno.test("eagerFactories ends a module past a template string's line, leaves one it cannot end, and refuses a layout it does not know", () => {
  const start = "var require_a = __commonJS(function(exports, module) {";
  assert.equal(
    eagerFactories([start, "  module.exports = `", "});", "`;", "});", ""].join("\n")),
    [
      "var require_a = __commonJS((function(exports, module) {",
      "  module.exports = `",
      "});",
      "`;",
      "}));",
      "",
    ].join("\n"),
  );
  // No end, no end that parses, or one only a module may contain: left as they are.
  for (
    const chunk of [
      `${start}\n  a();\n`,
      `${start}\n  a(;\n});`,
      `${start}\n  module.exports = import.meta.url;\n});`,
    ]
  ) assert.equal(eagerFactories(chunk), chunk);
  // A `)` that would close the parenthesized function early is no end either.
  const oneLine = "var require_a = __commonJS(function(exports, module) { module.exports = 1; });";
  assert.throws(
    () => eagerFactories(`${oneLine}\nvar init_b = __esm(() => {\n  foo();\n});`),
    /1 CommonJS modules are not laid out as/,
  );
  assert.throws(
    () => eagerFactories(`x(); var require_b = __commonJS(function(exports) {\n});`),
    /1 CommonJS modules are not laid out as/,
  );
});

Deno.test("deferChunkImports loads other chunks through a function, leaving static and package imports alone", () => {
  const chunk = [
    'import { a } from "./entry-1.js";',
    'import { b } from "node:buffer";',
    'const s = await import("./session-9rvc2yye.js");',
    'const p = await import("@platformatic/kafka");',
    'const d = (await import("./dead_letter-x.js")).sink;',
  ].join("\n");
  assert.equal(
    deferChunkImports(chunk),
    [
      "const __importChunk = (specifier) => import(specifier);",
      'import { a } from "./entry-1.js";',
      'import { b } from "node:buffer";',
      'const s = await __importChunk("./session-9rvc2yye.js");',
      'const p = await import("@platformatic/kafka");',
      'const d = (await __importChunk("./dead_letter-x.js")).sink;',
    ].join("\n"),
  );
  const plain = 'import { a } from "./entry-1.js";\nexport const z = a;\n';
  assert.equal(deferChunkImports(plain), plain);
});

Deno.test("buildWorkerBundle leaves nothing behind when the build fails", async () => {
  const dir = await Deno.makeTempDir({ prefix: "consumerd-build-" });
  try {
    // Bundles, but the build refuses what it wrote: a createRequire it does not know.
    const worker = join(dir, "src", "worker");
    await Deno.mkdir(worker, { recursive: true });
    await Deno.writeTextFile(join(dir, "deno.json"), "{}\n");
    for (const [i, name] of BUNDLE_ENTRIES.entries()) {
      await Deno.writeTextFile(join(worker, name), `export const x${i} = 1;\n`);
    }
    await Deno.writeTextFile(join(worker, "entry.ts"), 'console.log("createRequire(");\n');
    await assert.rejects(buildWorkerBundle(dir), /createRequire is used without the prelude/);
    assert.deepEqual([...Deno.readDirSync(join(dir, "dist"))], []);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

/** The start of @platformatic/kafka's connection module as the bundler writes it. */
const LIBRARY_CHUNK = [
  'import { a } from "./entry-1.js";',
  "",
  "// node_modules/@platformatic/kafka/dist/network/connection.js",
  "var import_fastq = __toESM(require_queue(), 1);",
  'import { createConnection } from "node:net";',
  'import { connect as createTLSConnection } from "node:tls";',
  "",
].join("\n");

Deno.test("libraryNetImports takes the library's createConnection and tls connect from platformatic_net.js", () => {
  assert.equal(
    libraryNetImports(LIBRARY_CHUNK),
    [
      'import { a } from "./entry-1.js";',
      "",
      "// node_modules/@platformatic/kafka/dist/network/connection.js",
      "var import_fastq = __toESM(require_queue(), 1);",
      "",
      'import { connect as createTLSConnection, createConnection } from "./platformatic_net.js";',
      "",
    ].join("\n"),
  );
  const other = 'import { createConnection } from "node:net";\nexport const x = 1;\n';
  assert.equal(libraryNetImports(other), other, "only the library's chunk");
});

Deno.test("libraryNetImports refuses a library chunk whose socket imports changed", () => {
  const changed = LIBRARY_CHUNK.replace("{ createConnection }", "{ createConnection, Socket }");
  assert.throws(() => libraryNetImports(changed), /does not import createConnection from node:net/);
  const noTls = LIBRARY_CHUNK.replace(/^import .*node:tls.*$/m, "");
  assert.throws(() => libraryNetImports(noTls), /connect from node:tls/);
});

Deno.test("minifiedChunk: every chunk but kafkajs's", () => {
  assert.equal(minifiedChunk(LIBRARY_CHUNK), true);
  assert.equal(minifiedChunk("export const x = 1;\n"), true);
  assert.equal(
    minifiedChunk("var a = 1;\n// node_modules/kafkajs/src/index.js\nvar b = 2;\n"),
    false,
  );
  assert.equal(
    minifiedChunk("\n// ../../work/x/node_modules/kafkajs/src/broker/index.js\nvar b;\n"),
    false,
  );
});

/** The library's codec imports and CRC-32C choice as the bundler writes them. */
const CODECS_CHUNK = [
  "// node_modules/@platformatic/kafka/dist/protocol/compression.js",
  'import { lz4Compress, lz4Decompress, snappyCompress, snappyDecompress } from "@platformatic/wasm-utils";',
  'import zlib from "node:zlib";',
  "// node_modules/@platformatic/kafka/dist/protocol/crc32c.js",
  'import { crc32c as wasmCRC32C } from "@platformatic/wasm-utils";',
  "var crc32c = loadNativeCRC32C() ?? wasmCRC32C;",
  "",
].join("\n");

Deno.test("libraryWasmImports takes the library's codecs from platformatic_wasm.js", () => {
  assert.equal(
    libraryWasmImports(CODECS_CHUNK),
    CODECS_CHUNK.replaceAll('"@platformatic/wasm-utils"', '"./platformatic_wasm.js"'),
  );
  const other = 'import { crc32c } from "@platformatic/wasm-utils";\n';
  assert.equal(libraryWasmImports(other), other, "only the library's chunk");
  const none = CODECS_CHUNK.replace(/^import \{[^}]+\} from "@platformatic\/wasm-utils";$/gm, "");
  assert.throws(() => libraryWasmImports(none), /does not import @platformatic\/wasm-utils/);
  const namespace = `${CODECS_CHUNK}import * as codecs from "@platformatic/wasm-utils";\n`;
  assert.throws(() => libraryWasmImports(namespace), /in a way the build does not rewire/);
});

Deno.test("lazyCrc32c makes the library's choice of CRC-32C on its first call", () => {
  const out = lazyCrc32c(CODECS_CHUNK);
  assert.match(
    out,
    /^var crc32cChoice = null;\nvar crc32c = \(data\) => \(crc32cChoice \?\?= loadNativeCRC32C\(\) \?\? wasmCRC32C\)\(data\);$/m,
  );
  assert.doesNotMatch(out, /^var crc32c = loadNativeCRC32C/m);
  // The rewritten lines run: the choice is made once, at the first call.
  let choices = 0;
  const crc32c = new Function(
    "loadNativeCRC32C",
    "wasmCRC32C",
    `${out.split("\n").filter((line) => line.startsWith("var ")).join("\n")}\nreturn crc32c;`,
  )(() => (choices++, null), (data: Uint8Array) => data.length) as (data: Uint8Array) => number;
  assert.equal(choices, 0);
  assert.equal(crc32c(new Uint8Array(3)), 3);
  assert.equal(crc32c(new Uint8Array(5)), 5);
  assert.equal(choices, 1);
  assert.equal(lazyCrc32c("var crc32c = 1;\n"), "var crc32c = 1;\n", "only the library's chunk");
  assert.throws(
    () => lazyCrc32c(CODECS_CHUNK.replace("loadNativeCRC32C() ?? ", "")),
    /does not choose its CRC-32C/,
  );
});

/** The library's utilities module as the bundler writes it, edited, and a method call. */
const LIBRARY_AJV_CHUNK = [
  'import { libraryAjv } from "./entry-1.js";',
  "// node_modules/@platformatic/kafka/dist/utils.js",
  "var import_debug = __toESM(require_src(), 1);",
  "var ajv = libraryAjv({ allErrors: true, coerceTypes: false, strict: true });",
  'ajv.addKeyword({ keyword: "x" });',
  "var validate = ajv.compile(schema);",
  "",
].join("\n");

Deno.test("lazyLibraryAjv sets the flag that says the library's ajv is the stand-in, and leaves the library's chunk as it is", () => {
  assert.equal(lazyLibraryAjv(LIBRARY_AJV_CHUNK), LIBRARY_AJV_CHUNK);
  assert.equal(
    lazyLibraryAjv("var LIBRARY_AJV_IS_LAZY2 = false;\nexport { LIBRARY_AJV_IS_LAZY2 };"),
    "var LIBRARY_AJV_IS_LAZY2 = true;\nexport { LIBRARY_AJV_IS_LAZY2 };",
  );
  assert.equal(lazyLibraryAjv("var x = 1;"), "var x = 1;");
  // A second copy of lazy_ajv.ts in one chunk is set too, so that the build counts both.
  assert.equal(
    lazyLibraryAjv("var LIBRARY_AJV_IS_LAZY = false;\nvar LIBRARY_AJV_IS_LAZY2 = false;\n"),
    "var LIBRARY_AJV_IS_LAZY = true;\nvar LIBRARY_AJV_IS_LAZY2 = true;\n",
  );
});

Deno.test("lazyLibraryAjv refuses a library that creates or uses ajv otherwise than the stand-in covers", () => {
  assert.throws(
    () => lazyLibraryAjv(LIBRARY_AJV_CHUNK.replace("ajv.compile(", "ajv.addSchema(")),
    /uses ajv\.addSchema, which lazy_ajv\.ts does not have/,
  );
  assert.throws(
    () => lazyLibraryAjv(`${LIBRARY_AJV_CHUNK}var s = ajv.schemas;\n`),
    /uses ajv\.schemas/,
  );
  assert.throws(
    () => lazyLibraryAjv(LIBRARY_AJV_CHUNK.replace("libraryAjv({", "new import__2020.Ajv2020({")),
    /does not create its ajv stand-in as expected/,
  );
});

/** A metafile output: its inputs, static and dynamic imports, and the module it starts. */
function output(
  inputs: string[],
  imports: string[] = [],
  dynamic: string[] = [],
  entryPoint?: string,
) {
  return {
    inputs: Object.fromEntries(inputs.map((i) => [i, {}])),
    imports: [
      ...imports.map((path) => ({ path, kind: "import-statement" })),
      ...dynamic.map((path) => ({ path, kind: "dynamic-import" })),
    ],
    ...(entryPoint === undefined ? {} : { entryPoint }),
  };
}

Deno.test("ajvLoadedAtStart names the chunks holding ajv that load without asking for it", () => {
  const meta = {
    inputs: {},
    outputs: {
      "./entry.js": output(
        ["src/worker/entry.ts"],
        ["./shared.js"],
        ["./library.js"],
        "src/worker/entry.ts",
      ),
      "./library.js": output(
        ["src/kafka/platformatic/library.ts"],
        ["./shared.js"],
        [],
        "src/kafka/platformatic/library.ts",
      ),
      "./shared.js": output(["src/kafka/platformatic/lazy_ajv.ts"], [], ["./2020.js"]),
      // ajv's own chunk, and a chunk of ajv's that only it imports: loaded on demand.
      "./2020.js": output(
        ["node_modules/ajv/dist/2020.js"],
        ["./ajv-core.js"],
        [],
        "node_modules/ajv/dist/2020.js",
      ),
      "./ajv-core.js": output(["node_modules/ajv/dist/core.js"]),
    },
  };
  assert.deepEqual(ajvLoadedAtStart(meta), []);
  // The engine's chunk imports ajv's shared chunk at load (a static import of ajv in the engine).
  meta.outputs["./library.js"].imports.push({ path: "./ajv-core.js", kind: "import-statement" });
  assert.deepEqual(ajvLoadedAtStart(meta), ["./ajv-core.js"]);
  // ajv in a chunk every worker loads.
  meta.outputs["./shared.js"].inputs["node_modules/ajv/dist/compile/index.js"] = {};
  assert.deepEqual(ajvLoadedAtStart(meta), ["./ajv-core.js", "./shared.js"]);
  assert.throws(
    () =>
      ajvLoadedAtStart({ inputs: {}, outputs: { "./entry.js": output(["src/worker/entry.ts"]) } }),
    /no chunk holds ajv/,
  );
});

Deno.test("the build fails when the engine imports ajv statically (every worker would load it)", async () => {
  const pkg = await packageCopy();
  try {
    const validators = join(pkg, "src", "kafka", "platformatic", "lazy_validators.ts");
    // The engine's ajv imported at load, as it was before ajv was a chunk of its own.
    const source = await Deno.readTextFile(validators);
    const dynamic = 'await import("ajv/dist/2020.js")';
    assert.ok(source.includes(dynamic));
    await Deno.writeTextFile(
      validators,
      `import * as ajvAtLoad from "ajv/dist/2020.js";\n${source.replace(dynamic, "ajvAtLoad")}`,
    );
    await assert.rejects(() => buildWorkerBundle(pkg), /hold ajv and load without asking for it/);
  } finally {
    await Deno.remove(pkg, { recursive: true });
  }
});

Deno.test("libraryBuiltinImports takes the library's crypto and createRequire from platformatic_builtins.js", () => {
  const chunk = [
    'import { a } from "./entry-1.js";',
    "// node_modules/@platformatic/kafka/dist/protocol/sasl/scram-sha.js",
    'import { createHash, createHmac, pbkdf2, randomBytes } from "node:crypto";',
    "// node_modules/@platformatic/kafka/dist/clients/producer/producer.js",
    'import { randomUUID as randomUUID2 } from "crypto";',
    'import { createRequire as createRequire2 } from "node:module";',
    'import { inspect } from "node:util";',
  ].join("\n");
  assert.equal(
    libraryBuiltinImports(chunk),
    [
      'import { a } from "./entry-1.js";',
      "// node_modules/@platformatic/kafka/dist/protocol/sasl/scram-sha.js",
      'import { createHash as createHash, createHmac as createHmac, pbkdf2 as pbkdf2, randomBytes as randomBytes } from "./platformatic_builtins.js";',
      "// node_modules/@platformatic/kafka/dist/clients/producer/producer.js",
      'import { randomUUID as randomUUID2 } from "./platformatic_builtins.js";',
      'import { requireOnFirstUse as createRequire2 } from "./platformatic_builtins.js";',
      'import { inspect } from "node:util";',
    ].join("\n"),
  );
  assert.equal(
    libraryBuiltinImports('import { x } from "node:crypto";'),
    'import { x } from "node:crypto";',
  );
  assert.throws(
    () => libraryBuiltinImports(chunk.replace("randomBytes }", "randomBytes, scryptSync }")),
    /imports scryptSync from node:crypto, which platformatic_builtins\.js does not have/,
  );
  assert.throws(
    () => libraryBuiltinImports(`${chunk}\nimport * as c from "node:crypto";`),
    /does not import node:crypto, node:module, node:stream and node:zlib as expected/,
  );
});

/** The library's uses of node:stream and node:zlib, as the bundler writes them (and avsc's own zlib). */
const STREAM_ZLIB_CHUNK = [
  "// node_modules/@platformatic/kafka/dist/clients/consumer/messages-stream.js",
  'import { Readable } from "node:stream";',
  "// node_modules/avsc/lib/containers.js",
  'var require_containers = __commonJS(() => { var zlib = __require("zlib"); var d = zlib.inflateRaw; });',
  "// node_modules/@platformatic/kafka/dist/protocol/compression.js",
  'import zlib from "node:zlib";',
  "var { gzip, gzipSync, gunzipSync } = zlib;",
  "var CompressionAlgorithms = {};",
  "class MessagesStream extends Readable {",
  "}",
  "// node_modules/@platformatic/kafka/dist/clients/producer/producer-stream.js",
  'import { Writable } from "node:stream";',
  "class ProducerStream extends Writable {",
  "}",
].join("\n");

Deno.test("libraryBuiltinImports takes the library's stream base classes and zlib functions from platformatic_builtins.js", () => {
  const out = libraryBuiltinImports(STREAM_ZLIB_CHUNK);
  assert.ok(out.includes('import { Readable as Readable } from "./platformatic_builtins.js";'));
  assert.ok(out.includes('import { Writable as Writable } from "./platformatic_builtins.js";'));
  assert.ok(out.includes('import { zlib as zlib } from "./platformatic_builtins.js";'));
  assert.ok(!/from "node:(?:stream|zlib)"/.test(out));
  // avsc's own zlib is left alone.
  assert.ok(out.includes('var zlib = __require("zlib");'));
});

Deno.test("libraryBuiltinImports refuses a stream class used other than as a base, and zlib used other than for its functions", () => {
  assert.throws(
    () => libraryBuiltinImports(`${STREAM_ZLIB_CHUNK}\nvar s = Readable.from([]);`),
    /uses Readable from node:stream other than as a class's base \(1 other uses\)/,
  );
  assert.throws(
    () => libraryBuiltinImports(STREAM_ZLIB_CHUNK.replace("extends Writable {", "{")),
    /uses Writable from node:stream other than as a class's base/,
  );
  assert.throws(
    () =>
      libraryBuiltinImports(STREAM_ZLIB_CHUNK.replace("gunzipSync }", "gunzipSync, constants }")),
    /uses node:zlib other than by taking its functions \(constants\)/,
  );
  assert.throws(
    () =>
      libraryBuiltinImports(
        STREAM_ZLIB_CHUNK.replace(
          "var { gzip, gzipSync, gunzipSync } = zlib;",
          "var z = zlib.gzip;",
        ),
      ),
    /uses node:zlib other than by taking its functions/,
  );
  assert.throws(
    () =>
      libraryBuiltinImports(STREAM_ZLIB_CHUNK.replace("import { Writable }", "import { Duplex }")),
    /imports Duplex from node:stream, which platformatic_builtins\.js does not have/,
  );
  // A class (the stand-in's functions cannot be constructed), and another use in the module.
  assert.throws(
    () => libraryBuiltinImports(STREAM_ZLIB_CHUNK.replace("gunzipSync }", "gunzipSync, Gzip }")),
    /uses node:zlib other than by taking its functions \(Gzip\)/,
  );
  assert.throws(
    () =>
      libraryBuiltinImports(
        STREAM_ZLIB_CHUNK.replace(
          "var CompressionAlgorithms = {};",
          "var level = zlib.constants.Z_BEST_SPEED;",
        ),
      ),
    /uses node:zlib other than by taking its functions/,
  );
});

Deno.test("libraryDebugColors asks stderrIsTerminal instead of making node's stderr stream, and finds supports-color absent without a throw", () => {
  const chunk = [
    'import { a } from "./entry-1.js";',
    "// node_modules/@platformatic/kafka/dist/utils.js",
    'var useColors = () => "colors" in opts ? Boolean(opts.colors) : tty.isatty(process.stderr.fd);',
    "  try {",
    '    const supportsColor = (()=>{throw new Error("Cannot require module "+"supports-color");})();',
    "  } catch (error) {}",
  ].join("\n");
  assert.equal(
    libraryDebugColors(chunk),
    [
      'import { stderrIsTerminal as __stderrIsTerminal } from "./platformatic_builtins.js";',
      'import { a } from "./entry-1.js";',
      "// node_modules/@platformatic/kafka/dist/utils.js",
      'var useColors = () => "colors" in opts ? Boolean(opts.colors) : __stderrIsTerminal();',
      "  try {",
      "    const supportsColor = undefined /* not installed */;",
      "  } catch (error) {}",
    ].join("\n"),
  );
  assert.equal(libraryDebugColors("var x = 1;"), "var x = 1;");
  assert.throws(
    () => libraryDebugColors(chunk.replace("process.stderr.fd", "2")),
    /debug does not test stderr as expected/,
  );
  assert.throws(
    () => libraryDebugColors(chunk.replace('"supports-color"', '"supports-colour"')),
    /debug does not try supports-color as expected/,
  );
});

Deno.test("libraryInspect takes the library's inspect from platformatic_builtins.js, and refuses other uses", () => {
  const chunk = [
    'import { a } from "./entry-1.js";',
    "// node_modules/@platformatic/kafka/dist/utils.js",
    'import { inspect } from "node:util";',
    "var dump = (v) => inspect(v, false, 10);",
    "class Heap { inspect() {} }",
    'Heap.prototype[Symbol.for("nodejs.util.inspect.custom")] = Heap.prototype.inspect;',
    "var inspectOpts = {};",
  ].join("\n");
  assert.equal(
    libraryInspect(chunk),
    chunk.replace(
      'import { inspect } from "node:util";',
      'import { inspect } from "./platformatic_builtins.js";',
    ),
  );
  assert.equal(libraryInspect("var x = 1;"), "var x = 1;");
  assert.throws(
    () => libraryInspect(chunk.replace("inspect(v, false, 10)", "inspect.custom")),
    /uses inspect other than by calling it/,
  );
  assert.throws(
    () => libraryInspect(chunk.replace('import { inspect } from "node:util";', "")),
    /does not import node:util's inspect as expected/,
  );
});

Deno.test("libraryProcess gives the library's chunk the stand-in as its process, and sets the engine's flag", () => {
  const chunk = [
    'import { a } from "./entry-1.js";',
    "// node_modules/@platformatic/kafka/dist/utils.js",
    '  if (!r && typeof process !== "undefined" && "env" in process) r = process.env.DEBUG;',
    "  window.process.whatever;",
    '  throw new Error("Failed to process a message.");',
    "  process.nextTick(cb, null, value);",
  ].join("\n");
  assert.equal(
    libraryProcess(chunk),
    'import { libraryProcess as process } from "./platformatic_builtins.js";\n' + chunk,
  );
  const engine =
    "// src/kafka/platformatic/library_env.ts\nvar LIBRARY_PROCESS_IS_STAND_IN = false;\n";
  assert.equal(
    libraryProcess(engine),
    "// src/kafka/platformatic/library_env.ts\nvar LIBRARY_PROCESS_IS_STAND_IN = true;\n",
  );
  assert.equal(libraryProcess("var x = 1;"), "var x = 1;");
});

Deno.test("libraryProcess refuses a library that binds process, passes it, or reads what the stand-in lacks", () => {
  const library = (line: string) =>
    ['import { a } from "./entry-1.js";', "// node_modules/@platformatic/kafka/dist/utils.js", line]
      .join("\n");
  assert.throws(
    () => libraryProcess(library("var process = {};")),
    /declares a `process` of its own/,
  );
  assert.throws(
    () => libraryProcess(library('import process from "node:process";')),
    /declares a `process` of its own/,
  );
  for (const line of ["inspect(process);", "const p = process;", "process[key]();"]) {
    assert.throws(() => libraryProcess(library(line)), /uses `process` as a value/, line);
  }
  assert.throws(
    () => libraryProcess(library('if ("hrtime" in process) x();')),
    /uses `process` as a value/,
  );
  assert.throws(
    () => libraryProcess(library("process.hrtime.bigint();")),
    /reads process\.hrtime, which libraryProcess does not have/,
  );
});

Deno.test("libraryApiPromises makes each API's promise form on first read", () => {
  const chunk = [
    'import { a } from "./entry-1.js";',
    "// node_modules/@platformatic/kafka/dist/apis/definitions.js",
    'import { promisify } from "node:util";',
    "function createAPI(apiKey, apiVersion) {",
    "  const api = function api(connection, ...args) {};",
    "  api.async = promisify(api);",
    "  api.key = apiKey;",
    "  return api;",
    "}",
  ].join("\n");
  const out = libraryApiPromises(chunk);
  assert.ok(
    out.startsWith(
      'import { promisifyOnFirstRead as __promisifyOnFirstRead } from "./platformatic_builtins.js";\n',
    ),
  );
  assert.ok(
    out.includes('  __promisifyOnFirstRead(api, "async", promisify);\n  api.key = apiKey;'),
  );
  assert.ok(!out.includes("api.async ="));
  assert.equal(libraryApiPromises("var x = 1;"), "var x = 1;");
  // Only node:util's promisify, under whatever name the bundler gave it.
  for (
    const wrong of [
      chunk.replace("api.async = promisify(api);", "api.async = wrap(api, 1);"),
      chunk.replace("api.async = promisify(api);", "api.async = wrap(api);"),
      chunk.replace('from "node:util"', 'from "./util.js"'),
    ]
  ) {
    assert.throws(() => libraryApiPromises(wrong), /createAPI does not promisify as expected/);
  }
  const renamed = chunk.replace("{ promisify }", "{ promisify as promisify2 }").replace(
    "promisify(api)",
    "promisify2(api)",
  );
  assert.ok(
    libraryApiPromises(renamed).includes('__promisifyOnFirstRead(api, "async", promisify2);'),
  );
});

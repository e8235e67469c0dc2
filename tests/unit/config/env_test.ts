import assert from "node:assert/strict";
import { LineCounter, parseDocument } from "yaml";
import { interpolate, interpolateDocument } from "../../../src/config/env.ts";

const ENV: Record<string, string> = { HOST: "kafka", EMPTY: "", NESTED: "${HOST}" };
const lookup = (name: string) => Object.hasOwn(ENV, name) ? ENV[name] : undefined;

Deno.test("interpolate() replaces ${VAR} and leaves other text alone", () => {
  assert.deepEqual(interpolate("${HOST}:9092", lookup), { ok: true, value: "kafka:9092" });
  assert.deepEqual(interpolate("no variables $HOST {HOST}", lookup), {
    ok: true,
    value: "no variables $HOST {HOST}",
  });
  assert.deepEqual(interpolate("${EMPTY}", lookup), { ok: true, value: "" });
});

Deno.test("interpolate() uses ${VAR:-default} when the variable is unset or empty", () => {
  assert.deepEqual(interpolate("${PORT:-9092}", lookup), { ok: true, value: "9092" });
  assert.deepEqual(interpolate("${EMPTY:-x}", lookup), { ok: true, value: "x" });
  assert.deepEqual(interpolate("${HOST:-x}", lookup), { ok: true, value: "kafka" });
  assert.deepEqual(interpolate("${PORT:-}", lookup), { ok: true, value: "" });
  assert.deepEqual(interpolate("${URL:-http://a:1/b}", lookup), {
    ok: true,
    value: "http://a:1/b",
  });
});

Deno.test("interpolate() fails ${VAR:?message} with its message when unset or empty", () => {
  assert.deepEqual(interpolate("${HOST:?needed}", lookup), { ok: true, value: "kafka" });
  assert.deepEqual(interpolate("x${TOKEN:?ask ops}", lookup), {
    ok: false,
    errors: [{ offset: 1, message: "environment variable TOKEN is not set: ask ops" }],
  });
  assert.deepEqual(interpolate("${EMPTY:?}", lookup), {
    ok: false,
    errors: [{ offset: 0, message: "environment variable EMPTY is empty: it is required" }],
  });
});

Deno.test("interpolate() names every missing variable", () => {
  const result = interpolate("${A}-${HOST}-${B}", lookup);
  assert.equal(result.ok, false);
  assert.deepEqual(
    !result.ok && result.errors.map((e) => [e.offset, e.message.split(" (")[0]]),
    [[0, "environment variable A is not set"], [13, "environment variable B is not set"]],
  );
});

Deno.test("interpolate() does not interpolate a variable's value again", () => {
  assert.deepEqual(interpolate("${NESTED}", lookup), { ok: true, value: "${HOST}" });
});

Deno.test("interpolate() turns $${ into a literal ${", () => {
  assert.deepEqual(interpolate("$${HOST} ${HOST}", lookup), { ok: true, value: "${HOST} kafka" });
});

Deno.test("interpolate() rejects malformed expressions", () => {
  const unterminated = interpolate("a ${HOST", lookup);
  assert.equal(unterminated.ok, false);
  assert.match(!unterminated.ok ? unterminated.errors[0]?.message ?? "" : "", /unterminated/);
  for (const bad of ["${}", "${1X}", "${A B}", "${A:=x}"]) {
    const result = interpolate(bad, lookup);
    assert.equal(result.ok, false, bad);
    assert.match(!result.ok ? result.errors[0]?.message ?? "" : "", /invalid expression/, bad);
  }
});

Deno.test("interpolateDocument() replaces string values only, never keys or other scalars", () => {
  const text = "${HOST}: ${HOST}\nlist: ['${HOST}', 1, true]\nquoted: '${HOST}'\nport: 9092\n";
  const doc = parseDocument(text, { lineCounter: new LineCounter() });
  const result = interpolateDocument(doc, lookup);
  assert.deepEqual(result.errors, []);
  assert.deepEqual(doc.toJS(), {
    "${HOST}": "kafka",
    list: ["kafka", 1, true],
    quoted: "kafka",
    port: 9092,
  });
  assert.deepEqual(
    result.interpolated.map((path) => path.join(".")).sort(),
    ["${HOST}", "list.0", "quoted"],
  );
});

Deno.test("interpolateDocument() locates an error at the expression inside the value", () => {
  const doc = parseDocument('a:\n  b: "x-${MISSING}"\n');
  const { errors } = interpolateDocument(doc, lookup);
  assert.equal(errors.length, 1);
  assert.deepEqual(errors[0]?.path, ["a", "b"]);
  assert.equal(errors[0]?.sourceOffset, 'a:\n  b: "x-'.length);
});

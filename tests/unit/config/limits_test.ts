import assert from "node:assert/strict";
import {
  exceedsExpandedSize,
  flowDepthOverflow,
  sizeProblem,
  utf8Length,
} from "../../../src/config/limits.ts";

Deno.test("utf8Length() counts UTF-8 bytes", () => {
  assert.equal(utf8Length("abc"), 3);
  assert.equal(utf8Length("é"), 2);
  assert.equal(utf8Length("€"), 3);
  assert.equal(utf8Length("😀"), 4);
  assert.equal(utf8Length("a😀é"), new TextEncoder().encode("a😀é").length);
});

Deno.test("sizeProblem() reports sizes over the limit only", () => {
  assert.equal(sizeProblem(1024, 1024), undefined);
  assert.equal(
    sizeProblem(2 * 1024 * 1024, 1024 * 1024),
    "the file is 2097152 bytes, over the limit of 1048576 bytes (1 MiB)",
  );
  assert.equal(sizeProblem(11, 10), "the file is 11 bytes, over the limit of 10 bytes");
});

Deno.test("flowDepthOverflow() finds the first bracket past the limit", () => {
  assert.equal(flowDepthOverflow("a: [[1]]", 2), undefined);
  assert.equal(flowDepthOverflow("a: [[1]]", 1), 4);
  assert.equal(flowDepthOverflow("a: [1]\nb: [{x: [2]}]", 2), 15);
});

Deno.test("flowDepthOverflow() ignores brackets in quoted strings and comments", () => {
  assert.equal(
    flowDepthOverflow(`a: "[[[["\nb: '{{{{ it''s [['\n# [[[[[[\nc: x # [[[[`, 1),
    undefined,
  );
});

Deno.test("exceedsExpandedSize() counts shared values each time they occur", () => {
  const big = Array(1000).fill(0);
  assert.equal(exceedsExpandedSize({ a: big }, 1500), false);
  assert.equal(exceedsExpandedSize({ a: big, b: big }, 1500), true);
  const cycle: unknown[] = [];
  cycle.push(cycle);
  assert.equal(exceedsExpandedSize(cycle, 100), true);
});

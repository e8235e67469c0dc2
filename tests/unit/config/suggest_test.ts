import assert from "node:assert/strict";
import { closestMatch, didYouMean, editDistance } from "../../../src/config/suggest.ts";

Deno.test("editDistance() counts insertions, deletions, substitutions and swaps", () => {
  assert.equal(editDistance("earlist", "earliest"), 1);
  assert.equal(editDistance("kye", "key"), 1);
  assert.equal(editDistance("kitten", "sitting"), 3);
  assert.equal(editDistance("", "abc"), 3);
  assert.equal(editDistance("same", "same"), 0);
});

Deno.test("closestMatch() suggests only likely typos", () => {
  const keys = ["name", "group", "topic", "autoOffsetReset", "resetOffsetOnStart"];
  assert.equal(closestMatch("grop", keys), "group");
  assert.equal(closestMatch("autooffsetreset", keys), "autoOffsetReset");
  assert.equal(closestMatch("Topic", keys), "topic");
  assert.equal(closestMatch("colour", keys), undefined);
  assert.equal(closestMatch("x", keys), undefined);
  assert.equal(closestMatch("anything", []), undefined);
});

Deno.test("didYouMean() formats the hint or returns an empty string", () => {
  assert.equal(didYouMean("latets", ["earliest", "latest"]), ' (did you mean "latest"?)');
  assert.equal(didYouMean("newest", ["earliest", "latest"]), "");
});

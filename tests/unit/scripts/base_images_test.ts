import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { baseImages, standInName } from "../../../scripts/base_images.ts";

const ROOT = fileURLToPath(new URL("../../../", import.meta.url));

Deno.test("baseImages() finds the Dockerfile's two base images, the Debian one first", () => {
  const images = baseImages(Deno.readTextFileSync(join(ROOT, "Dockerfile")));
  assert.deepEqual(images.map((i) => [i.kind, i.suite]), [["debian", "bookworm"], [
    "node",
    "bookworm",
  ]]);
  assert.equal(standInName(images[0]!), "localhost/debian:bookworm-slim");
  assert.match(standInName(images[1]!), /^localhost\/node:\d+-bookworm-slim$/);
});

Deno.test("baseImages() skips a FROM of an earlier stage and adds the Debian image a node one needs", () => {
  const images = baseImages(
    "FROM docker.io/library/node:24-trixie-slim AS build\nRUN x\nFROM build AS test\n",
  );
  assert.deepEqual(images, [
    { from: "debian:trixie-slim", line: 0, kind: "debian", suite: "trixie" },
    {
      from: "docker.io/library/node:24-trixie-slim",
      line: 1,
      kind: "node",
      major: 24,
      suite: "trixie",
    },
  ]);
});

Deno.test("baseImages() names the line of a base image it cannot make", () => {
  assert.throws(
    () => baseImages("FROM debian:bookworm-slim\nFROM alpine:3.20\n"),
    {
      name: "RangeError",
      message: "Cannot stand in for the Dockerfile's base image as only debian:<suite>-slim and " +
        "node:<major>-<suite>-slim are made here: line 2 is FROM alpine:3.20",
    },
  );
});

import assert from "node:assert/strict";
import events from "node:events";
import { promisify } from "node:util";
import zlib from "node:zlib";
import {
  bundleEnv,
  bundleRequire,
  lazyBaseClass,
  lazyBuiltin,
} from "../../../src/worker/bundle_require.ts";

Deno.test("bundleRequire gives events and util themselves, with or without the node: prefix", () => {
  assert.equal(bundleRequire("events"), events);
  assert.equal(bundleRequire("node:events"), events);
  assert.equal(typeof (bundleRequire("util") as { promisify: unknown }).promisify, "function");
});

Deno.test("bundleRequire gives any other built-in as the module itself: its classes can be extended", async () => {
  const { Buffer } = await import("node:buffer");
  const stream = await import("node:stream");
  assert.equal((bundleRequire("buffer") as { Buffer: unknown }).Buffer, Buffer);
  const { Readable } = bundleRequire("node:stream") as typeof stream;
  assert.equal(Readable, stream.Readable);
  class Numbers extends Readable {}
  assert.ok(new Numbers() instanceof stream.Readable);
  assert.throws(() => bundleRequire("no-such-module"), /no built-in module "node:no-such-module"/);
});

Deno.test("bundleRequire gives kafkajs's load-time built-ins, and debug's tty, as stand-ins until first used", () => {
  for (const name of ["assert", "crypto", "net", "tls", "tty", "zlib"]) {
    assert.equal(typeof bundleRequire(name), "function", name);
  }
  const crypto = bundleRequire("crypto") as {
    createHash(a: string): { update(d: string): { digest(e: string): string } };
  };
  assert.equal(crypto.createHash("sha256").update("x").digest("hex").length, 64);
  const tty = bundleRequire("tty") as { isatty(fd: number): boolean };
  assert.equal(tty.isatty(-1), false);
});

Deno.test("lazyBuiltin: a function read before the module loads still works once called (kafkajs's promisify(zlib.gzip))", async () => {
  const lazyZlib = lazyBuiltin("zlib") as typeof zlib;
  const gzip = promisify(lazyZlib.gzip);
  const unzip = promisify(lazyZlib.unzip);
  const packed = await gzip(new TextEncoder().encode("hello"));
  assert.equal(new TextDecoder().decode(await unzip(packed)), "hello");
  assert.equal(
    lazyZlib.constants,
    zlib.constants,
    "after loading, properties are the module's own",
  );
});

Deno.test("lazyBuiltin: the stand-in for a callable module calls it (assert(…))", () => {
  const lazyAssert = lazyBuiltin("assert") as (value: unknown, message?: string) => void;
  lazyAssert(true);
  assert.throws(() => lazyAssert(false, "checked"), /checked/);
});

Deno.test("lazyBuiltin: a name that is not a built-in fails when used, naming it", () => {
  const missing = lazyBuiltin("no-such-module") as { run(): void };
  assert.throws(() => missing.run(), /no built-in module "node:no-such-module"/);
});

Deno.test("lazyBaseClass: a class extended before the module loads makes the real class's instances", async () => {
  const stream = await import("node:stream");
  const Readable = lazyBaseClass("stream", "Readable") as typeof stream.Readable;
  class Letters extends Readable {
    #left = ["a", "b", "c"];
    override _read(): void {
      this.push(this.#left.shift() ?? null);
    }
    override destroy(error?: Error): this {
      this.destroyedBy = error?.message ?? "nothing";
      return super.destroy(error);
    }
    destroyedBy = "";
  }
  // Nothing is loaded, and nothing inherited, before the first instance.
  assert.equal(Object.getPrototypeOf(Readable.prototype), Object.prototype);
  assert.equal(Readable.name, "Readable");
  const letters = new Letters({ encoding: "utf8" });
  assert.ok(letters instanceof stream.Readable);
  assert.ok(letters instanceof Letters);
  assert.ok(letters instanceof Readable);
  const read: string[] = [];
  for await (const chunk of letters) read.push(chunk as string);
  assert.deepEqual(read, ["a", "b", "c"]);
  // super.x() and statics reach the real class once it is loaded.
  const again = new Letters();
  const failed = new Promise((resolve) => again.once("error", resolve));
  again.destroy(new Error("done"));
  assert.equal(((await failed) as Error).message, "done");
  assert.equal(again.destroyedBy, "done");
  assert.ok(again.destroyed);
  assert.equal(Letters.from, stream.Readable.from);
  assert.throws(
    () => (Readable as unknown as () => void)(),
    /Class constructor Readable cannot be invoked without 'new'/,
  );
});

Deno.test("lazyBaseClass: a static member read through a subclass before any instance loads the class", async () => {
  const stream = await import("node:stream");
  const Writable = lazyBaseClass("stream", "Writable") as typeof stream.Writable;
  class Sink extends Writable {}
  assert.equal(Object.getPrototypeOf(Writable.prototype), Object.prototype);
  assert.equal(Sink.fromWeb, stream.Writable.fromWeb);
  assert.equal(Object.getPrototypeOf(Writable.prototype), stream.Writable.prototype);
  assert.ok(new Sink() instanceof stream.Writable);
});

Deno.test("lazyBaseClass: a name that is not a class of the module fails when first instantiated, naming it", () => {
  const Missing = lazyBaseClass("stream", "NoSuchClass");
  class Sub extends Missing {}
  assert.throws(() => new Sub(), /no class NoSuchClass in the built-in module "node:stream"/);
});

Deno.test("bundleEnv reads a variable, and is undefined for one that is unset", () => {
  Deno.env.set("CONSUMERD_BUNDLE_ENV_TEST", "x");
  try {
    assert.equal(bundleEnv("CONSUMERD_BUNDLE_ENV_TEST"), "x");
    assert.equal(bundleEnv("CONSUMERD_BUNDLE_ENV_UNSET"), undefined);
  } finally {
    Deno.env.delete("CONSUMERD_BUNDLE_ENV_TEST");
  }
});

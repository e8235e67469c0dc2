import assert from "node:assert/strict";
import * as crypto from "node:crypto";
import * as stream from "node:stream";
import process from "node:process";
import { inspect, promisify } from "node:util";
import * as zlib from "node:zlib";
import { BUN } from "../../../scripts/compile.ts";
import * as standIn from "../../../src/worker/platformatic_builtins.ts";

Deno.test("the library's crypto functions from platformatic_builtins.ts give what node:crypto gives", async () => {
  assert.equal(
    standIn.createHash("sha512").update("pencil").digest("hex"),
    crypto.createHash("sha512").update("pencil").digest("hex"),
  );
  assert.equal(
    standIn.createHmac("sha256", "key").update("data").digest("base64"),
    crypto.createHmac("sha256", "key").update("data").digest("base64"),
  );
  // The library promisifies pbkdf2 when it loads (SCRAM's salted password).
  const derived = await promisify(standIn.pbkdf2)("pencil", "salt", 4096, 64, "sha512");
  assert.deepEqual(derived, crypto.pbkdf2Sync("pencil", "salt", 4096, 64, "sha512"));
  assert.equal(standIn.randomBytes(16).byteLength, 16);
  assert.match(
    standIn.randomUUID(),
    /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
  );
});

Deno.test("requireOnFirstUse makes node:module's require on its first call, and resolves as it would", () => {
  const require = standIn.requireOnFirstUse(import.meta.url);
  assert.equal((require("node:path") as typeof import("node:path")).sep, "/");
  assert.throws(() => require("./no-such-module.cjs"), /Cannot find module/);
});

Deno.test("stderrIsTerminal answers what debug's tty.isatty(process.stderr.fd) answers", async () => {
  const tty = await import("node:tty");
  assert.equal(standIn.stderrIsTerminal(), tty.isatty(process.stderr.fd));
  // And with stderr a pipe, in a process of its own.
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "eval",
      `import { stderrIsTerminal } from ${
        JSON.stringify(
          new URL("../../../src/worker/platformatic_builtins.ts", import.meta.url).href,
        )
      }; console.log(stderrIsTerminal());`,
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(new TextDecoder().decode(out.stdout).trim(), "false");
});

Deno.test("the library's zlib functions from platformatic_builtins.ts compress and decompress as node:zlib's do", async () => {
  // What the library takes from zlib when it loads (protocol/compression.js).
  const { gzip, gzipSync, gunzipSync, zstdCompressSync, zstdDecompressSync } = standIn.zlib;
  const text = new TextEncoder().encode("pencil ".repeat(100));
  assert.deepEqual(gunzipSync(gzipSync(text)), Buffer.from(text));
  assert.deepEqual(zlib.gunzipSync(gzipSync(text)), Buffer.from(text));
  assert.deepEqual(gunzipSync(await promisify(gzip)(text)), Buffer.from(text));
  assert.deepEqual(zstdDecompressSync(zstdCompressSync(text)), Buffer.from(text));
  assert.deepEqual(zlib.zstdDecompressSync(zstdCompressSync(text)), Buffer.from(text));
});

Deno.test("the library's stream classes from platformatic_builtins.ts can be extended and piped as node:stream's", async () => {
  class Source extends standIn.Readable {
    #left = 3;
    override _read(): void {
      this.push(this.#left > 0 ? `${this.#left--}` : null);
    }
  }
  const seen: string[] = [];
  class Sink extends standIn.Writable {
    override _write(chunk: Buffer, _encoding: string, done: () => void): void {
      seen.push(chunk.toString());
      done();
    }
  }
  const source = new Source();
  const sink = new Sink();
  assert.ok(source instanceof stream.Readable);
  assert.ok(sink instanceof stream.Writable);
  await stream.promises.pipeline(source, sink);
  assert.deepEqual(seen, ["3", "2", "1"]);
});

Deno.test("promisifyOnFirstRead gives an API function its promise form when first read, as the library's assignment did", async () => {
  let made = 0;
  const counting = (fn: (...args: never[]) => unknown) => {
    made++;
    return promisify(fn as unknown as (cb: (error: Error | null, value?: unknown) => void) => void);
  };
  const api = function api(value: number, cb: (error: Error | null, doubled?: number) => void) {
    queueMicrotask(() => (value < 0 ? cb(new Error("negative")) : cb(null, value * 2)));
  } as ((...args: never[]) => unknown) & { async?: (value: number) => Promise<number> };
  standIn.promisifyOnFirstRead(api, "async", counting);
  // What createAPI sets after the promise form.
  Object.assign(api, { key: 3, version: 1 });
  assert.equal(made, 0, "nothing is made before it is read");
  assert.deepEqual(Object.keys(api), ["async", "key", "version"]);
  assert.equal(await api.async!(21), 42);
  // It has what promisify gave it when createAPI ran: not the properties set after.
  const before = function api() {} as unknown as (cb: (error: Error | null) => void) => void;
  assert.deepEqual(Reflect.ownKeys(api.async!), Reflect.ownKeys(promisify(before)));
  await assert.rejects(api.async!(-1), /negative/);
  assert.equal(made, 1, "made once");
  assert.deepEqual(Object.getOwnPropertyDescriptor(api, "async"), {
    value: api.async,
    writable: true,
    enumerable: true,
    configurable: true,
  });
  // Assigned before it was read, it is the value assigned.
  const other = function other() {} as ((...args: never[]) => unknown) & { async?: unknown };
  standIn.promisifyOnFirstRead(other, "async", counting);
  other.async = "mine";
  assert.equal(other.async, "mine");
  assert.equal(made, 1);
});

Deno.test("timerTicks runs callbacks in order with their arguments, and those they queue before the promise reactions they cause", async () => {
  const nextTick = standIn.timerTicks();
  const order: string[] = [];
  nextTick((a: string, b: string) => order.push(`first ${a} ${b}`), "x", "y");
  nextTick(() => {
    order.push("second");
    void Promise.resolve().then(() => order.push("reaction of second"));
    nextTick(() => order.push("queued by second"));
  });
  order.push("now");
  await Promise.resolve();
  assert.deepEqual(order, ["now"], "not in the current task's microtasks");
  await new Promise((resolve) => setTimeout(resolve, 0));
  // Node's order too: its tick queue empties before the microtasks the ticks queued.
  assert.deepEqual(order, ["now", "first x y", "second", "queued by second", "reaction of second"]);
  // An emptied queue starts again.
  nextTick(() => order.push("later"));
  await new Promise((resolve) => setTimeout(resolve, 0));
  assert.equal(order.at(-1), "later");
  assert.throws(
    () => nextTick("no" as never),
    /nextTick: the callback must be a function, not string/,
  );
});

Deno.test("timerTicks runs a callback queued by a promise reaction after the reactions queued later, as Deno's nextTick does", async () => {
  const nextTick = standIn.timerTicks();
  const real = process.nextTick;
  const orders: string[][] = [];
  for (const tick of [nextTick, real]) {
    const order: string[] = [];
    await Promise.resolve().then(() => {
      tick(() => order.push("tick"));
      void Promise.resolve().then(() => order.push("later reaction"))
        .then(() => order.push("its reaction"));
    });
    await new Promise((resolve) => setTimeout(resolve, 0));
    orders.push(order);
  }
  assert.deepEqual(orders[0], ["later reaction", "its reaction", "tick"]);
  assert.deepEqual(orders[0], orders[1]);
});

Deno.test("timerTicks reports a callback's error as uncaught and still runs the ones after it", async () => {
  const nextTick = standIn.timerTicks();
  const order: string[] = [];
  const uncaught: unknown[] = [];
  const onError = (event: ErrorEvent) => {
    event.preventDefault();
    uncaught.push(event.error);
  };
  globalThis.addEventListener("error", onError);
  try {
    nextTick(() => order.push("before"));
    nextTick(() => {
      throw new Error("tick failed");
    });
    nextTick(() => order.push("after"));
    await new Promise((resolve) => setTimeout(resolve, 0));
    nextTick(() => order.push("next round"));
    await new Promise((resolve) => setTimeout(resolve, 0));
  } finally {
    globalThis.removeEventListener("error", onError);
  }
  assert.deepEqual(order, ["before", "after", "next round"]);
  assert.equal(uncaught.length, 1);
  assert.match(String(uncaught[0]), /tick failed/);
});

Deno.test("libraryProcess reads the environment without listing it, and ignores writes", () => {
  const { env } = standIn.libraryProcess;
  assert.deepEqual(Object.keys(env), []);
  assert.equal(env.PATH, Deno.env.get("PATH"));
  assert.equal("PATH" in env, Deno.env.get("PATH") !== undefined);
  assert.equal(env.CONSUMERD_SURELY_UNSET_VARIABLE, undefined);
  env.CONSUMERD_SURELY_UNSET_VARIABLE = "x";
  delete env.PATH;
  assert.equal(env.CONSUMERD_SURELY_UNSET_VARIABLE, undefined);
  assert.equal(Deno.env.get("CONSUMERD_SURELY_UNSET_VARIABLE"), undefined);
  assert.equal(env.PATH, Deno.env.get("PATH"));
  assert.equal(typeof standIn.libraryProcess.emitWarning, "function");
  assert.equal(standIn.libraryProcess.stderr, process.stderr);
});

Deno.test("libraryProcess reads, in a worker, only the variables it was granted, without an error for the others", async () => {
  Deno.env.set("CONSUMERD_TEST_GRANTED", "yes");
  Deno.env.set("CONSUMERD_TEST_REFUSED", "secret");
  const worker = new Worker(new URL("./fixtures/library_env_worker.ts", import.meta.url), {
    type: "module",
    deno: { permissions: { read: true, env: ["CONSUMERD_TEST_GRANTED"] } },
  } as WorkerOptions);
  try {
    const seen = await new Promise((resolve, reject) => {
      worker.onmessage = (event) => resolve(event.data);
      worker.onerror = (event) => reject(event.error ?? new Error(event.message));
    });
    assert.deepEqual(seen, { granted: "yes", refused: undefined, refusedIn: false, listed: [] });
  } finally {
    worker.terminate();
    Deno.env.delete("CONSUMERD_TEST_GRANTED");
    Deno.env.delete("CONSUMERD_TEST_REFUSED");
  }
});

Deno.test("stderrIsTerminal on Bun: a pipe, /dev/null (a character device) and a terminal", async () => {
  const module = new URL("../../../src/worker/platformatic_builtins.ts", import.meta.url).pathname;
  const code = `import { stderrIsTerminal } from ${
    JSON.stringify(module)
  }; process.stdout.write(String(stderrIsTerminal()));`;
  const run = async (command: string, args: string[], stderr: "piped" | "null") => {
    const out = await new Deno.Command(command, { args, stdout: "piped", stderr }).output();
    return new TextDecoder().decode(out.stdout).trim();
  };
  assert.equal(await run(BUN, ["-e", code], "piped"), "false");
  assert.equal(await run(BUN, ["-e", code], "null"), "false");
  // `script` gives the command a terminal for its standard streams.
  const quoted = (word: string) => `'${word.replaceAll("'", `'\\''`)}'`;
  assert.equal(
    await run("script", ["-qec", `${quoted(BUN)} -e ${quoted(code)}`, "/dev/null"], "piped"),
    "true",
  );
});

Deno.test("the library's inspect from platformatic_builtins.ts gives node:util's output", () => {
  const value = { a: [1, { b: new Map([["k", 2n]]) }], s: "x" };
  assert.equal(standIn.inspect(value, false, 10), inspect(value, false, 10));
  assert.equal(standIn.inspect(value), inspect(value));
});

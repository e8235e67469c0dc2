import assert from "node:assert/strict";
import * as crypto from "node:crypto";
import { promisify } from "node:util";
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
  const process = (await import("node:process")).default;
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

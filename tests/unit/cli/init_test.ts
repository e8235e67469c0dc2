import assert from "node:assert/strict";
import { join } from "node:path";
import { initCommand } from "../../../src/cli/init.ts";
import { loadConfigFile } from "../../../src/config/load.ts";
import { HANDLER_API } from "../../../src/cli/handler_api.ts";

const FILES = ["consumerd.d.ts", "consumers.yaml", "handler.ts", "handler_test.ts", "package.json"];

Deno.test("initCommand() scaffolds a handler project: its test passes with deno test, and check accepts its config", async () => {
  const root = await Deno.makeTempDir({ prefix: "consumerd-init-" });
  const dir = join(root, "Price Orders");
  try {
    const lines: string[] = [];
    assert.equal(await initCommand({ dir }, { out: (l) => lines.push(l) }), 0);
    const written = [];
    for await (const entry of Deno.readDir(dir)) written.push(entry.name);
    assert.deepEqual(written.sort(), FILES);
    assert.equal(await Deno.readTextFile(join(dir, "consumerd.d.ts")), HANDLER_API);
    assert.deepEqual(JSON.parse(await Deno.readTextFile(join(dir, "package.json"))), {
      name: "price-orders",
      private: true,
      type: "module",
    });
    assert.match(lines.join("\n"), /deno test/);

    const config = await loadConfigFile(join(dir, "consumers.yaml"), {
      env: { KAFKA_BROKERS: "127.0.0.1:9092" },
    });
    assert.deepEqual(config.consumers.map((c) => [c.name, c.handler]), [
      ["price-orders", join(dir, "handler.ts")],
    ]);

    const test = await new Deno.Command(Deno.execPath(), {
      args: ["test", "--quiet", "handler_test.ts"],
      cwd: dir,
      stdout: "piped",
      stderr: "piped",
    }).output();
    const said = new TextDecoder().decode(test.stdout) + new TextDecoder().decode(test.stderr);
    assert.equal(test.code, 0, said);
    assert.match(said, /1 passed/);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("initCommand() overwrites nothing: it names the files already there, exit 1", async () => {
  const dir = await Deno.makeTempDir({ prefix: "consumerd-init-" });
  try {
    await Deno.writeTextFile(join(dir, "handler.ts"), "// mine\n");
    const err: string[] = [];
    assert.equal(await initCommand({ dir }, { out: () => {}, err: (l) => err.push(l) }), 1);
    assert.deepEqual(err, [
      `error: ${dir} already has handler.ts; init writes only into a directory without ` +
      `${FILES.join(", ")}`,
    ]);
    assert.equal(await Deno.readTextFile(join(dir, "handler.ts")), "// mine\n");
    assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), ["handler.ts"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

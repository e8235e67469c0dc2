import assert from "node:assert/strict";
import { relative } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { checkCommand } from "../../../src/cli/check.ts";
import { schemaCommand } from "../../../src/cli/schema.ts";
import { consumersJsonSchema } from "../../../src/config/json_schema.ts";
import { makeWorkspace, yaml } from "./_helpers.ts";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, output: { out: (l: string) => out.push(l), err: (l: string) => err.push(l) } };
}

Deno.test("checkCommand() prints ok and one line per consumer, exit 0", async () => {
  const file = fileURLToPath(new URL("./fixtures/consumers.yaml", import.meta.url));
  const { out, err, output } = capture();
  assert.equal(await checkCommand({ config: file }, output), 0);
  assert.deepEqual(err, []);
  const handler = (name: string) =>
    relative(process.cwd(), fileURLToPath(new URL(`./fixtures/handlers/${name}`, import.meta.url)));
  assert.deepEqual(out, [
    "ok",
    "single group=fixtures topic=orders mode=balanced partitions=all replicas=1 " +
    "ordering=partition concurrency=1 " +
    "autoOffsetReset=earliest resetOffsetOnStart=false commit=auto/5000ms deadLetterTopic=none " +
    `membership=classic,dynamic sessionTimeout=30000ms handler=${handler("default_export.ts")}`,
    "batch group=fixtures topic=payments mode=balanced partitions=all replicas=1 " +
    "ordering=partition concurrency=1 " +
    "autoOffsetReset=earliest resetOffsetOnStart=false commit=manual deadLetterTopic=none " +
    `membership=classic,dynamic sessionTimeout=30000ms handler=${handler("handle_batch.ts")}`,
  ]);
});

/** The fields named by `names` of each consumer line `check` prints for a config of `lines`. */
async function summaryFields(names: string[], ...lines: string[]): Promise<string[]> {
  const workspace = await makeWorkspace();
  try {
    const file = join(workspace.dir, "consumers.yaml");
    await writeFile(file, yaml(...lines));
    const { out, output } = capture();
    assert.equal(await checkCommand({ config: file }, output), 0);
    const wanted = new RegExp(`^(${names.join("|")})=`);
    return out.slice(1).map((line) => line.split(" ").filter((f) => wanted.test(f)).join(" "));
  } finally {
    await workspace.remove();
  }
}

Deno.test("checkCommand() says how each balanced consumer joins, and which session timeout bounds a restart", async () => {
  const shown = await summaryFields(
    ["membership", "sessionTimeout"],
    "kafka: { engine: platformatic, instanceId: pod-0, sessionTimeoutMs: 10000 }",
    "consumers:",
    "  - { name: a, group: g, topic: t, handler: ./handlers/default_export.ts, replicas: 2 }",
    "  - name: b",
    "    group: g",
    "    topic: t",
    "    handler: ./handlers/default_export.ts",
    "    groupProtocol: consumer",
    "  - { name: c, group: g2, topic: t, handler: ./handlers/default_export.ts, mode: simple }",
  );
  assert.deepEqual(shown, [
    "membership=classic,static:pod-0.a.0-1 sessionTimeout=10000ms",
    "membership=consumer,static:pod-0.b.0 sessionTimeout=broker:group.consumer.session.timeout.ms",
    "",
  ]);
});

Deno.test("checkCommand() shows a consumer's outputs and delivery when it has outputs", async () => {
  const shown = await summaryFields(
    ["outputs", "delivery"],
    "defaults: { group: g, topic: t, handler: ./handlers/default_export.ts }",
    "consumers:",
    "  - { name: a, outputs: [t.enriched, audit] }",
    "  - { name: b }",
  );
  assert.deepEqual(shown, ["outputs=t.enriched,audit delivery=at-least-once", ""]);
});

Deno.test("checkCommand() prints every error as file:line:col path: message, exit 1", async () => {
  const workspace = await makeWorkspace();
  try {
    const file = join(workspace.dir, "consumers.yaml");
    await writeFile(
      file,
      yaml(
        "http:",
        "  listen: nowhere",
        "consumers:",
        "  - name: audit",
        "    group: g",
        "    topic: orders",
        "    autoOffsetReset: earlist",
        "    handler: ./handlers/missing.ts",
      ),
    );
    const { out, err, output } = capture();
    assert.equal(await checkCommand({ config: file }, output), 1);
    assert.deepEqual(out, []);
    assert.deepEqual(err, [
      `${file}:2:11 http.listen: expected "host:port" or false, found "nowhere": the port is missing`,
      `${file}:7:22 consumers[0].autoOffsetReset: expected one of "earliest", "latest", "EARLIEST", ` +
      `"LATEST", found "earlist" (did you mean "earliest"?)`,
      `${file}:8:14 consumers[0].handler: handler file not found: ${
        join(workspace.dir, "handlers", "missing.ts")
      }`,
    ]);
  } finally {
    await workspace.remove();
  }
});

Deno.test("checkCommand() reports a missing file, exit 1", async () => {
  const { err, output } = capture();
  assert.equal(await checkCommand({ config: "/nonexistent.yaml" }, output), 1);
  assert.deepEqual(err, ["/nonexistent.yaml:1:1: cannot read the config file: it does not exist"]);
});

Deno.test("schemaCommand() prints the JSON Schema, exit 0", async () => {
  const { out, output } = capture();
  assert.equal(await schemaCommand(output), 0);
  assert.equal(out.length, 1);
  assert.deepEqual(JSON.parse(out[0] ?? ""), consumersJsonSchema());
});

Deno.test("checkCommand() says once, on a runtime without a sandbox, that permissions are not enforced", async () => {
  const file = fileURLToPath(new URL("./fixtures/consumers.yaml", import.meta.url));
  const { out, err, output } = capture();
  assert.equal(await checkCommand({ config: file, sandboxed: false }, output), 0);
  assert.equal(out[0], "ok");
  assert.deepEqual(err, [
    "note: workers are not sandboxed on this runtime: permissions: is not enforced, and handlers " +
    "were imported with the daemon's own permissions (run on Deno to check them)",
  ]);
});

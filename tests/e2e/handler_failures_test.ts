/**
 * What `/status` says when a handler cannot run, in the config's terms: a
 * permission its import or its calls are denied names the YAML key that
 * grants it.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { getStatus, startHttpDaemon } from "../harness/http.ts";
import { uniqueName, waitFor, withTopic } from "../harness/kafka.ts";

const HANDLERS = {
  "import_denied.ts": 'const url = Deno.env.get("DENIED_AT_IMPORT");\n' +
    "export default function handle() { return url; }\n",
  "call_denied.ts": "export default function handle() {\n" +
    '  return Deno.env.get("DENIED_IN_CALL");\n}\n',
  "setup_throws.ts": 'export function setup() { throw new Error("database unreachable"); }\n' +
    "export default function handle() {}\n",
  "unresolved.ts":
    'import { Kafka } from "kafkajs";\nexport default function handle() { return Kafka; }\n',
};

Deno.test("a handler denied a permission at import or in a call is reported with the consumer and the key that grants it; a failing setup() as such; a package the handler's project lacks with where to install it", async () => {
  await withTopic({ partitions: 1, prefix: "denied" }, async ({ topic, admin }) => {
    const dir = await Deno.makeTempDir({ prefix: "consumerd-failures-" });
    for (const [name, text] of Object.entries(HANDLERS)) {
      await Deno.writeTextFile(join(dir, name), text);
    }
    // The call's consumer has a dead-letter topic: a denial pauses it all the same.
    const dlq = `${topic}.dlq`;
    await admin.ensureTopic(dlq, { partitions: 1 });
    await admin.produce(topic, [{ value: "one", partition: 0 }]);
    const consumer = (name: string, handler: string) => ({
      name,
      group: uniqueName(name),
      topic,
      handler: join(dir, handler),
      retry: { attempts: 1, backoffMs: 0, maxBackoffMs: 200 },
    });
    const { daemon, url } = await startHttpDaemon([
      consumer("import", "import_denied.ts"),
      { ...consumer("call", "call_denied.ts"), deadLetterTopic: dlq },
      consumer("setup", "setup_throws.ts"),
      consumer("unresolved", "unresolved.ts"),
    ]);
    const of = async (name: string) =>
      (await getStatus(url)).consumers.find((c) => c.name === name)!;
    try {
      const imported = await waitFor(async () => {
        const c = await of("import");
        return c.lastError?.includes("DENIED_AT_IMPORT") ? c : null;
      }, { what: "the import's denial in /status" });
      assert.match(
        String(imported.lastError),
        /consumers\[0\] \(import\): the handler needs env access to DENIED_AT_IMPORT — add it to consumers\[0\]\.permissions\.env \(consumers\.yaml:\d+\)/,
      );
      const called = await waitFor(async () => {
        const c = await of("call");
        return c.paused.length > 0 ? c : null;
      }, { what: "the call's partition paused" });
      assert.match(
        String(called.paused[0]?.reason),
        /^handler failed after retries: consumers\[1\] \(call\): the handler needs env access to DENIED_IN_CALL — add it to consumers\[1\]\.permissions\.env \(consumers\.yaml:\d+\)$/,
      );
      // A missing grant is the config's fault, not the message's: nothing was dead-lettered.
      assert.equal(called.deadLettered, 0);
      assert.deepEqual((await admin.watermarks(dlq)).map((w) => w.high), ["0"]);
      const setup = await waitFor(async () => {
        const c = await of("setup");
        return c.lastError?.includes("database unreachable") ? c : null;
      }, { what: "setup()'s failure in /status" });
      assert.doesNotMatch(String(setup.reason), /cannot load handler/);
      assert.match(
        String(setup.lastError),
        /^setup\(\) failed in handler \S+setup_throws\.ts \(consumers\.yaml:\d+\): database unreachable$/,
      );
      // consumerd's own kafkajs is not lent to a handler: it says where the package must come from.
      const unresolved = await waitFor(async () => {
        const c = await of("unresolved");
        return c.lastError?.includes("kafkajs") ? c : null;
      }, { what: "the unresolved import in /status" });
      assert.match(
        String(unresolved.lastError),
        /^cannot load handler \S+unresolved\.ts \(consumers\.yaml:\d+\): the handler imports "kafkajs", which its project does not have: no package\.json above it — create one in \S+ \(npm init -y\) and run `npm install kafkajs` there$/,
      );
    } finally {
      assert.equal(await daemon.stop(), 0);
      await admin.deleteTopics([dlq]);
      await Deno.remove(dir, { recursive: true });
    }
  });
});

Deno.test("a daemon stopped while a worker is still loading a handler that then fails exits 0: that worker had nothing to drain", async () => {
  await withTopic({ partitions: 1, prefix: "latefail" }, async ({ topic }) => {
    const dir = await Deno.makeTempDir({ prefix: "consumerd-latefail-" });
    await Deno.writeTextFile(
      join(dir, "late.ts"),
      'await new Promise((r) => setTimeout(r, 1500));\nthrow new Error("late failure");\n',
    );
    const { daemon } = await startHttpDaemon([{
      name: "late",
      group: uniqueName("late"),
      topic,
      handler: join(dir, "late.ts"),
    }]);
    try {
      // The worker spawns right after the status server listens; its handler fails at 1.5 s.
      await new Promise((r) => setTimeout(r, 700));
    } finally {
      const code = await daemon.stop();
      const said = daemon.logged(
        "not every worker drained: those that failed or ran past the grace period were terminated",
      );
      assert.deepEqual([code, said.length], [0, 0], daemon.stderr.slice(-8).join("\n"));
      await Deno.remove(dir, { recursive: true });
    }
  });
});

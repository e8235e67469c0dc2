/**
 * Hot reload with the daemon as a process against the real broker: a change
 * applies only its difference (under steady load), and bad edits change
 * nothing, each reported with line and column.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { stringify } from "yaml";
import { ConfigMapDir, saveByRename, saveInPlace } from "../harness/config_files.ts";
import { type DaemonProcess, type LogRecord, startDaemon } from "../harness/daemon.ts";
import {
  BROKERS,
  describeGroup,
  produceNumbered,
  steadyLoad,
  uniqueName,
  waitFor,
  withTopic,
} from "../harness/kafka.ts";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A handler that logs what it handled, tagged with a version, and imports nothing. */
const recordHandler = (version: string) =>
  `export default function handle(message, ctx) {
  ctx.log.info("handled", {
    partition: message.partition,
    offset: message.offset,
    value: message.text(),
    version: ${JSON.stringify(version)},
  });
}
`;

const of = (daemon: DaemonProcess, msg: string, consumer: string): LogRecord[] =>
  daemon.logged(msg).filter((r) => r.consumer === consumer);

Deno.test("reload applies only the difference: handler edit, removal, addition, bursts, SIGHUP, under load", async () => {
  await withTopic({ partitions: 3, prefix: "reload" }, async ({ topic, admin }) => {
    const dir = await Deno.makeTempDir({ prefix: "consumerd-reload-" });
    for (const name of ["keep", "edit", "gone", "fresh"]) {
      await Deno.writeTextFile(join(dir, `${name}.ts`), recordHandler("v1"));
    }
    const groups: Record<string, string> = {
      keep: uniqueName("keep"),
      edit: uniqueName("edit"),
      gone: uniqueName("gone"),
      fresh: uniqueName("fresh"),
    };
    const consumer = (name: string, extra: Record<string, unknown> = {}) => ({
      name,
      group: groups[name],
      topic,
      handler: `./${name}.ts`,
      commit: { mode: "auto", intervalMs: 500 },
      ...extra,
    });
    const keep = consumer("keep", { resetOffsetOnStart: true });
    const edit = consumer("edit", { resetOffsetOnStart: true });
    const text = (consumers: unknown[], comment = "") =>
      comment +
      stringify({
        kafka: { brokers: BROKERS },
        http: { listen: false },
        reload: { debounceMs: 300 },
        consumers,
      });
    const path = join(dir, "consumers.yaml");
    await saveInPlace(path, text([keep, edit, consumer("gone")]));

    const load = steadyLoad(admin, topic, { batch: 3, intervalMs: 50, prefix: "m" });
    const daemon = startDaemon(path);
    const reloads = () => daemon.logged("config reload");
    try {
      await waitFor(() => daemon.logged("consumer started").length === 3, {
        what: "three consumers started",
        timeoutMs: 60_000,
      });
      await waitFor(() => of(daemon, "handled", "keep").length > 30, { what: "keep handling" });
      const keepAssigned = of(daemon, "partitions assigned", "keep");
      const keepMembers = (await describeGroup(groups.keep!, "--members")).map((r) =>
        r["CONSUMER-ID"]
      );
      assert.equal(keepMembers.length, 1);

      // 1. Editing one consumer's handler restarts only that consumer.
      await Deno.writeTextFile(join(dir, "edit.ts"), recordHandler("v2"));
      const first = await waitFor(() => reloads()[0], { what: "the reload after a handler edit" });
      assert.equal(first.ok, true);
      assert.equal(first.trigger, "file");
      assert.deepEqual(first.restarted, ["edit"]);
      assert.deepEqual(first.unchanged, ["keep", "gone"]);
      assert.equal(first.revision, 2);
      await waitFor(() => of(daemon, "handled", "edit").some((r) => r.version === "v2"), {
        what: "the edited handler's new code handling messages",
      });
      await waitFor(() => of(daemon, "consumer started", "edit").length === 2, {
        what: "edit's second start",
      });
      const editStarts = of(daemon, "consumer started", "edit");
      // resetOffsetOnStart: the changed consumer's new start resets what it holds, once.
      assert.deepEqual(editStarts[1]!.resetOnStart, [0, 1, 2]);
      const editV2 = of(daemon, "handled", "edit").filter((r) => r.version === "v2");
      assert.ok(editV2.some((r) => r.offset === "0"), "edit re-read from earliest after its reset");

      // 2. Removing a consumer (atomic rename save) drains it: committed = last processed + 1.
      await saveByRename(path, text([keep, edit]));
      const second = await waitFor(() => reloads()[1], { what: "the reload after a removal" });
      assert.deepEqual(second.removed, ["gone"]);
      assert.deepEqual(second.unchanged, ["keep", "edit"]);
      const drained = await daemon.waitForLog("consumer drained", {
        where: (r) => r.consumer === "gone",
      });
      assert.equal(drained.clean, true);
      const goneHandled = of(daemon, "handled", "gone");
      for (const { partition, offset } of await admin.committed(groups.gone!, topic)) {
        const last = goneHandled.filter((r) => r.partition === partition)
          .map((r) => BigInt(String(r.offset)))
          .reduce((a, b) => (a > b ? a : b), -1n);
        assert.equal(offset, String(last + 1n), `gone partition ${partition}: last processed + 1`);
      }
      assert.deepEqual(await describeGroup(groups.gone!, "--members"), [], "gone left its group");

      // 3. Adding a consumer starts it within a few seconds.
      const addedAt = Date.now();
      await saveInPlace(path, text([keep, edit, consumer("fresh")]));
      await daemon.waitForLog("consumer started", {
        where: (r) => r.consumer === "fresh",
        timeoutMs: 15_000,
      });
      const addMs = Date.now() - addedAt;
      assert.deepEqual(reloads()[2]?.added, ["fresh"]);

      // 4. A replicas change adds just the difference: one more worker, no new start.
      const fresh2 = consumer("fresh", { replicas: 2 });
      await saveInPlace(path, text([keep, edit, fresh2]));
      const scale = await waitFor(() => reloads()[3], {
        what: "the reload after a replicas change",
      });
      assert.deepEqual(scale.scaled, [{ name: "fresh", from: 1, to: 2 }]);
      await daemon.waitForLog("partitions assigned", {
        where: (r) => r.consumer === "fresh" && r.replica === 1,
      });
      assert.equal(of(daemon, "consumer started", "fresh").length, 1, "a scale is not a start");

      // 5. Five saves within one second are one reload.
      for (let i = 0; i < 5; i++) {
        await saveInPlace(path, text([keep, edit, fresh2], `# save ${i}\n`));
        await sleep(150);
      }
      await waitFor(() => reloads().length >= 5, { what: "the reload after five saves" });
      await sleep(1500);
      assert.equal(reloads().length, 5, "five saves within a second: one reload");
      assert.equal(reloads()[4]!.applied, false, "comments alone change nothing");

      // 6. SIGHUP is one reload.
      daemon.kill("SIGHUP");
      await waitFor(() => reloads().length >= 6, { what: "the SIGHUP reload" });
      await sleep(1000);
      assert.equal(reloads().length, 6);
      assert.equal(reloads()[5]!.trigger, "SIGHUP");
      assert.equal(reloads()[5]!.revision, 5, "revision counts applied reloads only");

      // The untouched consumer kept its worker, its member and its generation.
      assert.equal(of(daemon, "consumer started", "keep").length, 1, "keep started once");
      assert.deepEqual(
        of(daemon, "partitions assigned", "keep"),
        keepAssigned,
        "no new assignment",
      );
      assert.equal(of(daemon, "worker state", "keep").filter((r) => r.to !== "running").length, 0);
      assert.deepEqual(
        (await describeGroup(groups.keep!, "--members")).map((r) => r["CONSUMER-ID"]),
        keepMembers,
        "keep's group member is the same",
      );
      const sent = await load.stop();
      await waitFor(() => new Set(of(daemon, "handled", "keep").map((r) => r.value)).size >= sent, {
        what: `keep handling all ${sent} messages`,
      });
      const v2 = () => of(daemon, "handled", "edit").filter((r) => r.version === "v2");
      await waitFor(() => new Set(v2().map((r) => r.value)).size >= sent, {
        what: `edit's new start handling all ${sent} messages`,
      });
      assert.equal(await daemon.stop(), 0);
      assert.equal(v2().length, sent, "edit's new start reset once: every message read once since");
      const keepValues = of(daemon, "handled", "keep").map((r) => String(r.value));
      assert.equal(new Set(keepValues).size, sent, "keep lost nothing");
      assert.equal(keepValues.length, sent, "keep handled nothing twice");
      console.log(
        `reload under load: consumer added and started in ${addMs} ms; ` +
          `${sent} messages, keep lost 0 and repeated 0`,
      );
    } finally {
      await load.stop();
      if ((await Promise.race([daemon.exited(), sleep(0).then(() => null)])) === null) {
        await daemon.stop();
      }
      await Deno.remove(dir, { recursive: true });
    }
  });
});

const GOOD = (group: (c: string) => string, topic: string) => [
  "kafka:",
  `  brokers: [${BROKERS.map((b) => JSON.stringify(b)).join(", ")}]`,
  "http:",
  "  listen: false",
  "consumers:",
  "  - name: a",
  `    group: ${group("a")}`,
  `    topic: ${topic}`,
  "    handler: ./handlers/a.ts",
  "  - name: b",
  `    group: ${group("b")}`,
  `    topic: ${topic}`,
  "    handler: ./handlers/b.ts",
];

/** Bad edits: a replaced line (1-based) or appended lines; where and what the error says. */
const BAD_EDITS: Array<{
  name: string;
  line: number;
  replace?: string;
  append?: string;
  says: RegExp;
}> = [
  {
    name: "over-indented key",
    line: 12,
    replace: "     topic: x",
    says: /indented deeper than `group` on line 11/,
  },
  { name: "unknown key", line: 12, replace: "    topik: x", says: /unknown key "topik"/ },
  { name: "duplicate name", line: 10, replace: "  - name: a", says: /duplicate/ },
  {
    name: "missing handler file",
    line: 13,
    replace: "    handler: ./handlers/nope.ts",
    says: /not found/,
  },
  {
    name: "handler throws on import",
    line: 13,
    replace: "    handler: ./handlers/throws.ts",
    says: /failed to load/,
  },
  {
    name: "handler without a default export",
    line: 13,
    replace: "    handler: ./handlers/noexport.ts",
    says: /default function/,
  },
  {
    name: "missing env var",
    line: 11,
    replace: "    group: ${RELOAD_TEST_UNSET_VAR}",
    says: /RELOAD_TEST_UNSET_VAR/,
  },
  { name: "wrong type", line: 14, append: "    replicas: two", says: /expected an integer/ },
  {
    name: "partitions in balanced mode",
    line: 14,
    append: "    partitions: [0]",
    says: /only allowed in simple mode/,
  },
  { name: "misspelt enum", line: 14, append: "    autoOffsetReset: earlist", says: /earliest/ },
  { name: "tab indentation", line: 12, replace: "\ttopic: x", says: /tab/ },
  { name: "unclosed quote", line: 11, replace: '    group: "abc', says: /never closed/ },
];

for (const runtime of ["deno", "bun"] as const) {
  Deno.test(`bad edits (ConfigMap swaps) leave every worker untouched and report line and column; kafka: reconnects all; SIGHUP (${runtime})`, async () => {
    await withTopic({ partitions: 2, prefix: "badedit" }, async ({ topic, admin }) => {
      const dir = await Deno.makeTempDir({ prefix: "consumerd-configmap-" });
      await Deno.mkdir(join(dir, "handlers"));
      await Deno.writeTextFile(join(dir, "handlers", "a.ts"), recordHandler("v1"));
      await Deno.writeTextFile(join(dir, "handlers", "b.ts"), recordHandler("v1"));
      await Deno.writeTextFile(
        join(dir, "handlers", "throws.ts"),
        'throw new Error("broken at import");\n',
      );
      await Deno.writeTextFile(join(dir, "handlers", "noexport.ts"), "export const x = 1;\n");
      const groups = { a: uniqueName("ga"), b: uniqueName("gb") };
      const good = GOOD((c) => groups[c as "a" | "b"], topic);
      const configMap = new ConfigMapDir(dir);
      await configMap.publish(`${good.join("\n")}\n`);
      await produceNumbered(admin, topic, { count: 20, partitions: 2 });
      const daemon = startDaemon(configMap.path, { runtime });
      const reloads = () => daemon.logged("config reload");
      try {
        await waitFor(() => daemon.logged("consumer started").length === 2, {
          what: "both consumers started",
          timeoutMs: 60_000,
        });
        await waitFor(() => daemon.handled().length === 40, { what: "40 messages handled" });
        const quiet = [
          "worker state",
          "partitions assigned",
          "consumer drained",
          "worker restarting",
        ];
        const before = quiet.map((msg) => daemon.logged(msg).length);
        const startedAt = performance.now();
        // A handler edit that breaks the module is refused too; undoing it changes nothing.
        await Deno.writeTextFile(join(dir, "handlers", "b.ts"), 'throw new Error("half-saved");\n');
        const broken = await waitFor(() => reloads()[0], {
          what: "the reload after a broken handler edit",
        });
        assert.equal(broken.ok, false);
        const brokenError = daemon.logged("invalid config").at(-1)!;
        assert.equal(brokenError.line, 13);
        assert.match(String(brokenError.message), /half-saved/);
        await Deno.writeTextFile(join(dir, "handlers", "b.ts"), recordHandler("v1"));
        const undone = await waitFor(() => reloads()[1], {
          what: "the reload after undoing it",
        });
        assert.equal(undone.ok, true);
        assert.equal(undone.applied, false);
        for (const [i, edit] of BAD_EDITS.entries()) {
          const lines = [...good];
          if (edit.replace !== undefined) lines[edit.line - 1] = edit.replace;
          if (edit.append !== undefined) lines.push(edit.append);
          await configMap.publish(`${lines.join("\n")}\n`);
          const reload = await waitFor(() => reloads()[i + 2], {
            what: `the reload after "${edit.name}"`,
          });
          assert.equal(reload.ok, false, edit.name);
          assert.equal(reload.applied, false);
          const end = daemon.records.indexOf(reload);
          const start = daemon.records.indexOf(reloads()[i + 1]!);
          const errors = daemon.records.slice(start, end).filter((r) => r.msg === "invalid config");
          assert.equal(errors.length, reload.errors, `${edit.name}: every error logged`);
          assert.ok(
            errors.every((e) => !/handlers\/[ab]\.ts/.test(String(e.message))),
            `${edit.name}: the good handlers pass their check`,
          );
          const hit = errors.find((e) => e.line === edit.line && edit.says.test(String(e.message)));
          assert.ok(
            hit !== undefined && typeof hit.column === "number" && hit.column > 0,
            `${edit.name}: expected an error at line ${edit.line} matching ${edit.says}, got ` +
              JSON.stringify(errors.map((e) => [e.line, e.column, e.message])),
          );
        }
        const badMs = Math.round(performance.now() - startedAt);
        assert.deepEqual(
          quiet.map((msg) => daemon.logged(msg).length),
          before,
          "no worker was touched",
        );

        // A good swap after them is applied: b removed, a left alone.
        await configMap.publish(`${good.slice(0, 9).join("\n")}\n`);
        const last = await waitFor(() => reloads()[BAD_EDITS.length + 2], {
          what: "the good swap's reload",
        });
        assert.equal(last.ok, true);
        assert.deepEqual(last.removed, ["b"]);
        assert.deepEqual(last.unchanged, ["a"]);
        await sleep(1000);
        assert.equal(reloads().length, BAD_EDITS.length + 3, "each save was exactly one reload");

        // A kafka: change reconnects every consumer (not a new start).
        const assignedBefore = daemon.logged("partitions assigned").length;
        const kafkaEdit = [
          ...good.slice(0, 2),
          "  clientId: consumerd-reloaded",
          ...good.slice(2, 9),
        ];
        await configMap.publish(`${kafkaEdit.join("\n")}\n`);
        const kafka = await waitFor(() => reloads()[BAD_EDITS.length + 3], {
          what: "the reload after a kafka: change",
        });
        assert.equal(kafka.kafka, "changed");
        assert.deepEqual(kafka.reconnected, ["a"]);
        assert.deepEqual(kafka.restarted, []);
        await waitFor(() => daemon.logged("partitions assigned").length > assignedBefore, {
          what: "a reconnected",
        });

        // SIGHUP is one reload, on this runtime too.
        daemon.kill("SIGHUP");
        const hup = await waitFor(() => reloads()[BAD_EDITS.length + 4], {
          what: "the SIGHUP reload",
        });
        assert.equal(hup.trigger, "SIGHUP");
        assert.equal(hup.applied, false);
        await sleep(1000);
        assert.equal(reloads().length, BAD_EDITS.length + 5);
        assert.equal(await daemon.stop(), 0);
        console.log(
          `${runtime}: ${BAD_EDITS.length} bad edits rejected in ${badMs} ms, no worker touched`,
        );
      } finally {
        if ((await Promise.race([daemon.exited(), sleep(0).then(() => null)])) === null) {
          await daemon.stop();
        }
        await Deno.remove(dir, { recursive: true });
      }
    });
  });
}

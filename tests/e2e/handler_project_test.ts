/**
 * The handler project docs/handlers.md walks through, built as it says:
 * `consumerd init` (the compiled binary's), its npm dependency installed
 * beside it, the page's handler, local module, test and consumers.yaml,
 * `deno test`, `consumerd check` — then run outside the repository on Deno
 * (sandboxed; workers from the sources and from the worker bundle), on Bun
 * and in the compiled binary, each consuming and committing. The
 * dependency is a tiny pure-JS package packed and installed from a tarball
 * by the test (as from a registry, without one); it reads a data file of
 * its own at import, which a sandboxed worker may do only inside the
 * handler's project.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { compileDaemon } from "../../scripts/compile.ts";
import { packageWithBundle } from "../harness/bundle.ts";
import { daemonCommand, type DaemonProcess, spawnDaemon, startDaemon } from "../harness/daemon.ts";
import { BROKERS, uniqueName, waitFor, withTopic } from "../harness/kafka.ts";
import { handlerProject, projectConfig, run } from "../harness/handler_project.ts";

Deno.test("a handler project outside the repository, with an npm dependency, consumes and commits on Deno (sources and bundle), Bun and the compiled binary", async () => {
  await withTopic({ partitions: 2, prefix: "project" }, async ({ topic, admin }) => {
    const root = await Deno.makeTempDir({ prefix: "consumerd-project-" });
    const project = join(root, "price-orders");
    const daemons: Record<string, DaemonProcess> = {};
    const cleanup = [root];
    try {
      const binary = join(root, "consumerd");
      const [bundled] = await Promise.all([
        packageWithBundle(),
        compileDaemon(binary).then(() => handlerProject(project, [binary])),
      ]);
      cleanup.push(bundled);
      const checked = await run(binary, ["check", "--config", "consumers.yaml"], project);
      assert.match(checked, /^ok\nprice-orders /, checked);
      const orders = Array.from({ length: 20 }, (_, i) => ({
        sku: i % 2 === 0 ? "apple" : "pear",
        quantity: i + 1,
      }));
      await admin.produce(
        topic,
        orders.map((o, i) => ({ value: JSON.stringify(o), partition: i % 2 })),
      );
      const groups: Record<string, string> = {};
      // The page's consumers.yaml, with this test's topic, a group per daemon and no status server.
      const config = async (name: string) => {
        groups[name] = uniqueName(`project-${name}`);
        const path = join(project, `${name}.yaml`);
        await Deno.writeTextFile(
          path,
          await projectConfig(project, {
            group: groups[name],
            topic,
            commit: { mode: "auto", intervalMs: 200 },
          }, { http: { listen: false } }),
        );
        return path;
      };
      const env = { KAFKA_BROKERS: BROKERS.join(",") };
      daemons.deno = startDaemon(await config("deno"), { env });
      daemons.bun = startDaemon(await config("bun"), { runtime: "bun", env });
      daemons.binary = spawnDaemon(binary, ["run", "--config", await config("binary")], {
        cwd: root,
        env,
      });
      const [command, args] = daemonCommand(
        join(bundled, "src", "main.ts"),
        await config("bundle"),
        "deno",
      );
      daemons.bundle = spawnDaemon(command, args, { cwd: bundled, env });
      const expected = orders.map((o) => o.quantity * (o.sku === "apple" ? 3 : 5)).sort();
      for (const [name, daemon] of Object.entries(daemons)) {
        const priced = await waitFor(() => {
          const failed = daemon.logged("worker terminated")[0];
          if (failed) throw new Error(`${name}: ${failed.reason}`);
          const records = daemon.logged("priced");
          return records.length >= orders.length ? records : null;
        }, { what: `${name}: every order priced`, timeoutMs: 60_000 }).catch((error) => {
          throw new Error(`${error.message}\n${daemon.stderr.slice(-10).join("\n")}`);
        });
        assert.deepEqual(priced.map((r) => r.total).sort(), expected, name);
        assert.ok(priced.every((r) => r.shown === `${Number(r.total).toFixed(2)} EUR`), name);
      }
      assert.equal(daemons.bundle.logged("starting")[0]?.workers, "bundle");
      for (const [name, daemon] of Object.entries(daemons)) {
        assert.equal(await daemon.stop(), 0, `${name} drains and exits 0`);
        assert.deepEqual(
          (await admin.committed(groups[name]!, topic)).map((c) => c.offset),
          ["10", "10"],
          `${name} committed every message`,
        );
      }
    } finally {
      for (const daemon of Object.values(daemons)) daemon.kill("SIGKILL");
      for (const dir of cleanup) await Deno.remove(dir, { recursive: true });
    }
  });
});

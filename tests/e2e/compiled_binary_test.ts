/**
 * `deno task compile`'s single executable (built with `bun build --compile`)
 * runs from a directory outside the repository: its embedded worker entry
 * starts, the handler and the module it imports are read from the config's
 * directory at run time, messages are consumed and committed, and SIGTERM
 * under load drains and exits 0. Prints the binary's size and its start-up
 * time to ready.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { stringify } from "yaml";
import { compileDaemon } from "../../scripts/compile.ts";
import { spawnDaemon } from "../harness/daemon.ts";
import {
  BROKERS,
  produceNumbered,
  steadyLoad,
  uniqueName,
  waitFor,
  withTopic,
} from "../harness/kafka.ts";

const HANDLER = `import { describe } from "./describe.ts";

export default function handle(message, ctx) {
  ctx.log.info("handled", describe(message));
}
`;
const HELPER = `export function describe(message) {
  return { partition: message.partition, offset: message.offset, value: message.text() };
}
`;

Deno.test("the compiled binary consumes, commits, and drains on SIGTERM, with handlers read from disk", async () => {
  await withTopic({ partitions: 3 }, async ({ topic, admin }) => {
    const dir = await Deno.makeTempDir({ prefix: "consumerd-binary-" });
    try {
      const binary = join(dir, "bin", "consumerd");
      const bytes = await compileDaemon(binary);
      const app = join(dir, "app");
      await Deno.mkdir(join(app, "handlers"), { recursive: true });
      await Deno.writeTextFile(join(app, "handlers", "record.ts"), HANDLER);
      await Deno.writeTextFile(join(app, "handlers", "describe.ts"), HELPER);
      const group = uniqueName("g");
      await Deno.writeTextFile(
        join(app, "consumers.yaml"),
        stringify({
          kafka: { brokers: BROKERS },
          http: { listen: false },
          consumers: [{
            name: "c",
            group,
            topic,
            handler: "./handlers/record.ts",
            replicas: 2,
            commit: { mode: "auto", intervalMs: 200 },
          }],
        }),
      );
      await produceNumbered(admin, topic, { count: 300, partitions: 3 });

      const spawnedAt = performance.now();
      // From another directory, with nothing of the repository around it.
      const daemon = spawnDaemon(binary, ["run", "--config", join(app, "consumers.yaml")], {
        cwd: dir,
        env: { PATH: "/usr/bin:/bin" },
        clearEnv: true,
      });
      const load = steadyLoad(admin, topic, { batch: 3, intervalMs: 50, prefix: "load" });
      let readyMs = 0;
      let upMs = 0;
      try {
        await daemon.waitForLog("starting", { timeoutMs: 30_000 });
        upMs = performance.now() - spawnedAt;
        await daemon.waitForLog("consumer started", { timeoutMs: 60_000 });
        readyMs = performance.now() - spawnedAt;
        assert.equal(daemon.logged("starting")[0]?.runtime, "bun");
        await waitFor(
          () =>
            new Set(daemon.handled().map((h) => h.value).filter((v) => v.startsWith("m-"))).size ===
              300,
          { what: "the 300 messages produced before the start", timeoutMs: 60_000 },
        );
        await waitFor(() => daemon.handled().some((h) => h.value.startsWith("load-")), {
          what: "messages under load",
        });
      } finally {
        daemon.kill("SIGTERM");
      }
      const code = await daemon.exited();
      await load.stop();
      assert.equal(code, 0, `exit 0 after a drain:\n${daemon.stderr.slice(-10).join("\n")}`);
      assert.equal(daemon.logged("worker terminated").length, 0, "no worker failed");
      const committed = await admin.committed(group, topic);
      for (const { partition, offset } of committed) {
        const handled = daemon.handled().filter((h) => h.partition === partition)
          .map((h) => BigInt(h.offset));
        assert.ok(handled.length > 0, `partition ${partition} was consumed`);
        const last = handled.reduce((a, b) => (a > b ? a : b));
        assert.equal(offset, String(last + 1n), `partition ${partition}: committed = last + 1`);
      }
      console.log(
        `compiled binary: ${(bytes / 1024 / 1024).toFixed(1)} MiB; config loaded ${
          Math.round(upMs)
        } ms after spawn; ready (2 workers joined, start positions committed) after ${
          Math.round(readyMs)
        } ms`,
      );
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });
});

Deno.test("the compiled binary's check and reload import each handler in a probe worker", async () => {
  const dir = await Deno.makeTempDir({ prefix: "consumerd-binary-probe-" });
  try {
    const binary = join(dir, "consumerd");
    await compileDaemon(binary);
    await Deno.writeTextFile(join(dir, "record.ts"), HANDLER);
    await Deno.writeTextFile(join(dir, "describe.ts"), HELPER);
    const config = join(dir, "consumers.yaml");
    const write = (names: string[]) =>
      Deno.writeTextFile(
        config,
        stringify({
          kafka: { brokers: BROKERS },
          http: { listen: "127.0.0.1:0" },
          reload: { debounceMs: 60_000 },
          consumers: names.map((name) => ({
            name,
            group: uniqueName(name),
            topic: uniqueName("absent"),
            handler: "./record.ts",
          })),
        }),
      );
    await write(["a"]);
    const checked = await new Deno.Command(binary, {
      args: ["check", "--config", config],
      cwd: dir,
      stdout: "piped",
      stderr: "piped",
    }).output();
    const said = new TextDecoder().decode(checked.stdout) +
      new TextDecoder().decode(checked.stderr);
    assert.equal(checked.code, 0, said);
    assert.match(said, /^ok\n/);

    const daemon = spawnDaemon(binary, ["run", "--config", config], { cwd: dir });
    try {
      const { url } = await daemon.waitForLog("status server listening", { timeoutMs: 30_000 });
      await write(["a", "b"]);
      const response = await fetch(new URL("reload", String(url)), { method: "POST" });
      const outcome = await response.json();
      assert.equal(response.status, 200, JSON.stringify(outcome));
      assert.deepEqual(outcome.added, ["b"]);
    } finally {
      daemon.kill("SIGTERM");
      await daemon.exited();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

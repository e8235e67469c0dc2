/**
 * The image's commands, run exactly as the Dockerfile writes them, without a
 * container engine: the `CMD` in a copy of the image's files with the config
 * mounted like a ConfigMap, and the `HEALTHCHECK` against a stub server.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { spawnDaemon } from "../harness/daemon.ts";
import { execForm, leadingOptions } from "../harness/dockerfile.ts";
import {
  assertDrained,
  configMapMount,
  dockerfile,
  imageCmd,
  imageEnv,
  imageTree,
} from "../harness/image.ts";
import { BROKERS, steadyLoad, uniqueName, waitFor, withTopic } from "../harness/kafka.ts";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

Deno.test("the image's CMD, as written, runs the daemon as the process itself from the worker bundle; SIGTERM under load drains and exits 0", async () => {
  await withTopic({ partitions: 4 }, async ({ topic, admin }) => {
    const tree = await imageTree();
    const mount = await configMapMount(join(ROOT, "deploy", "config"));
    try {
      const group = uniqueName("g");
      const [command, ...args] = imageCmd();
      const env = {
        ...imageEnv(),
        // What the container gets from its mount, its environment and its secret; the image's
        // own paths mapped to this machine's.
        CONSUMERD_CONFIG: join(mount, "consumers.yaml"),
        DENO_DIR: join(tree, ".deno-dir"),
        KAFKA_BROKERS: BROKERS.join(","),
        CONSUMERD_TOKEN: "test-token",
        CONSUMERD_TOPIC: topic,
        CONSUMERD_GROUP: group,
        // Port 0: other daemons on this machine may hold 9464.
        CONSUMERD_LISTEN: "127.0.0.1:0",
        PATH: "/usr/local/bin:/usr/bin:/bin",
      };
      // Exec form with a relative path: the container runtime resolves it in WORKDIR.
      const daemon = spawnDaemon(join(tree, command!), args, { cwd: tree, env, clearEnv: true });
      const load = steadyLoad(admin, topic, { batch: 4, intervalMs: 50, partitions: 4 });
      try {
        await daemon.waitForLog("consumer started", { timeoutMs: 60_000 });
        // The image's build step bundled the workers, and the bundle matches the files it holds.
        assert.equal(daemon.logged("starting")[0]?.workers, "bundle");
        const exe = await Deno.readLink(`/proc/${daemon.pid}/exe`);
        assert.equal(exe, join(tree, "node_modules", "deno", "deno"), "no shell or npm between");
        await waitFor(() => daemon.handled().length >= 200, { what: "200 handled messages" });
      } finally {
        daemon.kill("SIGTERM");
      }
      const code = await daemon.exited();
      await load.stop();
      assert.equal(code, 0, `exit 0 after a drain:\n${daemon.stderr.slice(-10).join("\n")}`);
      await assertDrained(daemon, { admin, group, topic, workers: 2 });
    } finally {
      await Deno.remove(tree, { recursive: true });
      await Deno.remove(mount, { recursive: true });
    }
  });
});

Deno.test("the image's HEALTHCHECK, as written, passes on a 200 from /healthz and fails otherwise", async () => {
  const healthcheck = dockerfile().find((i) => i.keyword === "HEALTHCHECK")!;
  const [command, ...args] = execForm(
    healthcheck,
    leadingOptions(healthcheck.args).rest.replace(/^CMD\s+/, ""),
  );
  let status = 200;
  const paths: string[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (request) => {
    paths.push(new URL(request.url).pathname);
    return new Response(status === 200 ? "ok" : "down", { status });
  });
  const run = async (url: string) =>
    (await new Deno.Command(join(ROOT, command!), {
      args,
      cwd: ROOT,
      env: { CONSUMERD_HEALTH_URL: url },
      stdout: "null",
      stderr: "null",
    }).output()).code;
  try {
    const url = `http://127.0.0.1:${server.addr.port}/healthz`;
    assert.equal(await run(url), 0, "healthy");
    status = 503;
    assert.equal(await run(url), 1, "unhealthy");
    assert.deepEqual(paths, ["/healthz", "/healthz"]);
  } finally {
    await server.shutdown();
  }
  assert.equal(await run(`http://127.0.0.1:${server.addr.port}/healthz`), 1, "nothing listening");
});

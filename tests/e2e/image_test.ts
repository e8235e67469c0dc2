/**
 * The image for real: podman builds the Dockerfile as written (on local
 * stand-ins for its two base images, made from Debian's packages and npm by
 * `scripts/base_images.ts`) and runs it against the test broker, on the host
 * network, with a read-only root.
 *
 * Minutes on a cold cache, so only with CONSUMERD_IMAGE_TESTS=1
 * (`deno task test:image`, which CI runs after the other suites);
 * tests/e2e/container_test.ts is the short version in the default suite.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { podman, type PodmanStore } from "../../scripts/podman.ts";
import {
  buildImage,
  containerState,
  inspectImage,
  readyEngine,
  runImage,
} from "../harness/container.ts";
import type { LogRecord } from "../harness/daemon.ts";
import { execForm, leadingOptions } from "../harness/dockerfile.ts";
import { assertDrained, configMapMount, dockerfile, imageCmd, imageEnv } from "../harness/image.ts";
import { handlerProject, projectConfig } from "../harness/handler_project.ts";
import { freePort } from "../harness/http.ts";
import { BROKERS, steadyLoad, uniqueName, waitFor, withTopic } from "../harness/kafka.ts";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const RUN = Deno.env.get("CONSUMERD_IMAGE_TESTS") === "1";
/** The image measured 196 MB (debian:bookworm-slim 78 MB, the deno binary, the bundle). */
const MAX_IMAGE_MB = 230;

/**
 * How the tests run the image: on the host network (the test broker), with a
 * read-only root where only what is mounted writable is (no tmpfs of
 * podman's own at /run, /var/tmp), and a tmpfs /tmp.
 */
const READ_ONLY_HOST_RUN = [
  "--network=host",
  "--read-only",
  "--read-only-tmpfs=false",
  "--tmpfs=/tmp",
];

let built: Promise<PodmanStore> | undefined;
/** Base images, engine settings and the build, once for both tests. */
function builtImage(): Promise<PodmanStore> {
  built ??= (async () => {
    const start = performance.now();
    const { store, settings } = await readyEngine();
    const base = (performance.now() - start) / 1000;
    const { seconds } = await buildImage(store);
    console.error(
      `image test: base images and engine ready in ${base.toFixed(1)} s (podman runs with ` +
        `${settings}); podman build took ${seconds.toFixed(1)} s`,
    );
    return store;
  })();
  return built;
}

Deno.test({
  name:
    "the image builds with podman from the Dockerfile as written: Docker format with its HEALTHCHECK, uid 10001, the CMD and ENV as written, small",
  ignore: !RUN,
  async fn() {
    const store = await builtImage();
    const image = await inspectImage(store);
    const mb = image.Size / 1e6;
    console.error(`image test: the image is ${mb.toFixed(1)} MB`);
    assert.ok(mb < MAX_IMAGE_MB, `${mb.toFixed(1)} MB, at most ${MAX_IMAGE_MB} MB`);
    const healthcheck = dockerfile().find((i) => i.keyword === "HEALTHCHECK")!;
    const { options, rest } = leadingOptions(healthcheck.args);
    assert.deepEqual(
      image.Healthcheck?.Test,
      ["CMD", ...execForm(healthcheck, rest.replace(/^CMD\s+/, ""))],
      "the HEALTHCHECK is in the image's config (Docker format)",
    );
    assert.equal(image.Healthcheck.Interval, Number.parseInt(options.interval!) * 1e9);
    assert.equal(image.Healthcheck.StartPeriod, Number.parseInt(options["start-period"]!) * 1e9);
    assert.equal(image.Config.User, "10001:10001");
    assert.deepEqual(image.Config.Cmd, imageCmd());
    assert.equal(image.Config.StopSignal, "SIGTERM");
    for (const [name, value] of Object.entries(imageEnv())) {
      assert.ok(image.Config.Env?.includes(`${name}=${value}`), `ENV ${name}=${value}`);
    }
  },
});

Deno.test({
  name:
    "the image runs: PID 1 is the daemon as uid 10001, ready, healthy, on a read-only root with a tmpfs /tmp; SIGTERM under load drains, exits 0 and commits what was handled",
  ignore: !RUN,
  async fn() {
    const store = await builtImage();
    await withTopic({ partitions: 4 }, async ({ topic, admin }) => {
      const mount = await configMapMount(join(ROOT, "deploy", "config"));
      const name = uniqueName("consumerd-image");
      const group = uniqueName("g");
      const port = freePort();
      const env = {
        KAFKA_BROKERS: BROKERS.join(","),
        CONSUMERD_TOKEN: "test-token",
        CONSUMERD_TOPIC: topic,
        CONSUMERD_GROUP: group,
        // The host network: other daemons on this machine may hold 9464.
        CONSUMERD_LISTEN: `127.0.0.1:${port}`,
        CONSUMERD_HEALTH_URL: `http://127.0.0.1:${port}/healthz`,
      };
      const daemon = runImage(store, {
        name,
        args: [
          ...READ_ONLY_HOST_RUN,
          `--volume=${mount}:/etc/consumerd:ro`,
          ...Object.entries(env).map(([k, v]) => `--env=${k}=${v}`),
        ],
      });
      const load = steadyLoad(admin, topic, { batch: 4, intervalMs: 50, partitions: 4 });
      try {
        const starting = await daemon.waitForLog("starting", { timeoutMs: 60_000 });
        const { pid, startedAt } = await containerState(store, name);
        const readyAt = await waitFor(async () => {
          const response = await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => null);
          await response?.body?.cancel();
          return response?.status === 200 ? Date.now() : 0;
        }, { intervalMs: 20, timeoutMs: 60_000, what: "/readyz 200" });
        const started = await daemon.waitForLog("consumer started");
        const at = (r: LogRecord) => Date.parse(String(r.time)) - startedAt;
        const running = daemon.logged("worker state").filter((r) => r.to === "running");
        console.error(
          `image test: from container start: 'starting' ${at(starting)} ms, workers running ` +
            `${running.map(at).join(" and ")} ms, /readyz 200 ${readyAt - startedAt} ms, ` +
            `'consumer started' ${at(started)} ms (the consumer's own start to settled: ` +
            `${started.ms} ms)`,
        );
        assert.ok(at(starting) < 5_000, "the daemon process starts within 5 s");
        assert.ok(readyAt - startedAt < 15_000, "ready within 15 s");

        // PID 1 of its namespace is the deno binary itself, as uid 10001.
        const status = await Deno.readTextFile(`/proc/${pid}/status`);
        assert.match(status, /^Uid:\s+10001\s+10001\s+10001\s+10001$/m);
        assert.match(status, /^Gid:\s+10001\s+10001\s+10001\s+10001$/m);
        assert.match(status, new RegExp(`^NSpid:\\s+${pid}\\s+1$`, "m"), "PID 1 in the container");
        assert.equal(await Deno.readLink(`/proc/${pid}/exe`), "/app/node_modules/deno/deno");
        const cmdline = (await Deno.readTextFile(`/proc/${pid}/cmdline`)).split("\0").slice(0, -1);
        assert.deepEqual(cmdline, imageCmd(), "the CMD as written, no shell or npm between");

        // The image's HEALTHCHECK, as podman runs it.
        const health = await podman(store, ["healthcheck", "run", name], { check: false });
        assert.equal(health.code, 0, `healthy: ${health.stdout}${health.stderr}`);

        // The root is read-only even for root; Deno's cache went to the tmpfs.
        const write = await podman(store, ["exec", "--user=0", name, "touch", "/app/probe"], {
          check: false,
        });
        assert.notEqual(write.code, 0);
        assert.match(write.stderr, /Read-only file system/);
        const cache = await podman(store, ["exec", name, "ls", "/tmp/deno"], { check: false });
        assert.equal(cache.code, 0, `DENO_DIR written: ${cache.stderr}`);

        await waitFor(() => daemon.handled().length >= 200, { what: "200 handled messages" });
      } finally {
        // STOPSIGNAL SIGTERM, and time for the drain (shutdown.gracePeriodMs 30 s).
        await podman(store, ["stop", "--time=40", name], { check: false });
      }
      const code = await daemon.exited();
      await load.stop();
      await podman(store, ["rm", "--force", "--time=0", name], { check: false });
      await Deno.remove(mount, { recursive: true });
      assert.equal(code, 0, `exit 0 after a drain:\n${daemon.stderr.slice(-10).join("\n")}`);
      await assertDrained(daemon, { admin, group, topic, workers: 2 });
    });
  },
});

Deno.test({
  name:
    "the image runs a handler project mounted read-only at /etc/consumerd, with its npm dependency installed beside it (the handler guide's project)",
  ignore: !RUN,
  async fn() {
    const store = await builtImage();
    await withTopic({ partitions: 2 }, async ({ topic, admin }) => {
      const root = await Deno.makeTempDir({ prefix: "consumerd-image-project-" });
      // Readable by the image's user (10001), as a volume or a COPY would make it.
      await Deno.chmod(root, 0o755);
      const project = join(root, "price-orders");
      await handlerProject(project, [
        Deno.execPath(),
        "run",
        "-A",
        "--unstable-worker-options",
        join(ROOT, "src", "main.ts"),
      ]);
      const group = uniqueName("g");
      await Deno.writeTextFile(
        join(project, "consumers.yaml"),
        await projectConfig(project, { group, topic }, { http: { listen: false } }),
      );
      await new Deno.Command("chmod", { args: ["-R", "a+rX", root] }).output();
      await admin.produce(
        topic,
        Array.from({ length: 10 }, (_, i) => ({
          value: JSON.stringify({ sku: "pear", quantity: i + 1 }),
          partition: i % 2,
        })),
      );
      const name = uniqueName("consumerd-image-project");
      const daemon = runImage(store, {
        name,
        args: [
          ...READ_ONLY_HOST_RUN,
          `--volume=${project}:/etc/consumerd:ro`,
          `--env=KAFKA_BROKERS=${BROKERS.join(",")}`,
        ],
      });
      try {
        const priced = await waitFor(() => {
          const records = daemon.logged("priced");
          return records.length >= 10 ? records : null;
        }, { timeoutMs: 90_000, what: "every order priced in the image" }).catch((error) => {
          throw new Error(`${error.message}\n${daemon.stderr.slice(-10).join("\n")}`);
        });
        assert.deepEqual(
          priced.map((r) => r.total).sort((a, b) => Number(a) - Number(b)),
          Array.from({ length: 10 }, (_, i) => (i + 1) * 5),
        );
        assert.equal(daemon.logged("starting")[0]?.workers, "bundle");
      } finally {
        await podman(store, ["stop", "--time=40", name], { check: false });
      }
      assert.equal(await daemon.exited(), 0);
      await podman(store, ["rm", "--force", "--time=0", name], { check: false });
      assert.deepEqual((await admin.committed(group, topic)).map((c) => c.offset), ["5", "5"]);
      await Deno.remove(root, { recursive: true });
    });
  },
});

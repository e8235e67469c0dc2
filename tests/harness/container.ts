/**
 * Builds consumerd's image with podman from the Dockerfile as written, and
 * runs it: the podman store, base image stand-ins and engine settings of
 * `scripts/podman.ts` and `scripts/base_images.ts`.
 *
 * @module
 */
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { ensureBaseImages } from "../../scripts/base_images.ts";
import { engineSettings, podman, type PodmanStore, podmanStore } from "../../scripts/podman.ts";
import { type DaemonProcess, spawnDaemon } from "./daemon.ts";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

/** The tag the image tests build. */
export const TEST_IMAGE = "localhost/consumerd:image-test";

/** The store with the base image stand-ins in it, and the engine settings chosen. */
export async function readyEngine(): Promise<{ store: PodmanStore; settings: string }> {
  const store = await podmanStore();
  const [debian] = await ensureBaseImages(store);
  return { store, settings: await engineSettings(store, debian!) };
}

/**
 * Where this machine's npm has a `cafile` (certificate authorities of its
 * own, as behind a TLS-intercepting proxy, where the registry is otherwise
 * refused inside the build: "Exit handler never called!"), `podman build`
 * options that lend it to the build stage's npm: the file and an npmrc
 * naming it, mounted for the RUN steps; the Dockerfile stays as it is, and
 * the final stage copies only /app. Writes the npmrc into `dir`.
 */
async function npmTrust(dir: string): Promise<string[]> {
  const out = await new Deno.Command("npm", {
    args: ["config", "get", "cafile"],
    stdout: "piped",
    stderr: "null",
  }).output().catch(() => null);
  const cafile = out?.success ? new TextDecoder().decode(out.stdout).trim() : "";
  if (cafile === "" || cafile === "null" || cafile === "undefined") return [];
  await Deno.writeTextFile(join(dir, "npmrc"), "cafile=/run/consumerd-build/ca.crt\n");
  return [
    "--volume",
    `${cafile}:/run/consumerd-build/ca.crt:ro`,
    "--volume",
    `${join(dir, "npmrc")}:/usr/local/etc/npmrc:ro`,
  ];
}

/**
 * Builds the repository's Dockerfile into `tag` in Docker's image format
 * (podman's OCI default drops `HEALTHCHECK`), then drops dangling images.
 * Returns podman's output and the seconds it took.
 */
export async function buildImage(
  store: PodmanStore,
  tag = TEST_IMAGE,
): Promise<{ seconds: number; output: string }> {
  const dir = await Deno.makeTempDir({ prefix: "consumerd-build-" });
  try {
    const start = performance.now();
    const out = await podman(store, [
      "build",
      "--format",
      "docker",
      ...await npmTrust(dir),
      "-t",
      tag,
      "-f",
      join(ROOT, "Dockerfile"),
      ROOT,
    ]);
    const seconds = (performance.now() - start) / 1000;
    await podman(store, ["image", "prune", "-f"]);
    return { seconds, output: out.stdout + out.stderr };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** `podman image inspect` of one image. */
export async function inspectImage(
  store: PodmanStore,
  tag = TEST_IMAGE,
): Promise<{
  Size: number;
  Config: { User?: string; Cmd?: string[]; Env?: string[]; StopSignal?: string };
  Healthcheck?: { Test: string[]; Interval: number; Timeout: number; StartPeriod: number };
}> {
  const out = await podman(store, ["image", "inspect", tag]);
  return JSON.parse(out.stdout)[0];
}

/**
 * Runs `image` attached (`podman run --rm --name name [args] image`), its
 * stderr read as the daemon's JSON log lines; the exit code is the
 * container's.
 */
export function runImage(
  store: PodmanStore,
  { name, args, image = TEST_IMAGE }: { name: string; args: string[]; image?: string },
): DaemonProcess {
  return spawnDaemon("podman", ["run", "--rm", "--name", name, ...args, image], {
    cwd: ROOT,
    env: store.env,
  });
}

/** The host pid of a running container's process and when podman started it (epoch ms). */
export async function containerState(
  store: PodmanStore,
  name: string,
): Promise<{ pid: number; startedAt: number }> {
  const out = await podman(store, [
    "inspect",
    "--format",
    "{{.State.Pid}} {{json .State.StartedAt}}",
    name,
  ]);
  const [pid, startedAt] = out.stdout.trim().split(" ");
  // Nanoseconds in the timestamp: Date.parse takes milliseconds.
  const ms = JSON.parse(startedAt!).replace(/(\.\d{3})\d*/, "$1");
  return { pid: Number(pid), startedAt: Date.parse(ms) };
}

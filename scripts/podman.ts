/**
 * The podman that builds and runs consumerd's image (`deno task base-images`,
 * `deno task test:image`): a store of its own under the cache, so that the
 * stand-in base images never shadow Docker Hub's in the machine's own store,
 * and the engine settings this machine needs, found by trying them.
 *
 * @module
 */
import { join } from "node:path";
import { cacheDir } from "./broker.ts";

/** A failure the user can act on (a missing program, a failed podman command). */
export class PodmanError extends Error {
  override name = "PodmanError";
}

/** Where podman keeps images and containers, and the variables that point it there. */
export interface PodmanStore {
  /** Holds storage.conf, containers.conf (when needed) and the image store. */
  dir: string;
  /** `CONTAINERS_STORAGE_CONF`, and `CONTAINERS_CONF` once {@linkcode engineSettings} wrote one. */
  env: Record<string, string>;
}

/** What a podman command printed and how it ended. */
export interface PodmanResult {
  code: number;
  stdout: string;
  stderr: string;
}

function tail(text: string, lines: number): string {
  return text.trimEnd().split("\n").slice(-lines).join("\n");
}

/**
 * Throws a {@linkcode PodmanError} naming the Debian package to install if
 * `name` does not run.
 */
export async function requireProgram(
  name: string,
  { debianPackage = name, why }: { debianPackage?: string; why: string },
): Promise<void> {
  try {
    const out = await new Deno.Command(name, {
      args: ["--version"],
      stdout: "null",
      stderr: "null",
    }).output();
    if (out.success) return;
  } catch { /* not on PATH */ }
  throw new PodmanError(
    `${name} is needed ${why}, and \`${name} --version\` did not run.\n` +
      `Install it (Debian/Ubuntu: apt-get install -y ${debianPackage}) and try again; .ci/run does.`,
  );
}

/**
 * The store under `dir` (by default `podman/` in the cache): writes its
 * storage.conf once. Its run root sits under `XDG_RUNTIME_DIR` (else /run),
 * where podman expects state that a reboot clears.
 *
 * @example
 * ```ts
 * const store = await podmanStore();
 * await podman(store, ["images"]);
 * ```
 */
export async function podmanStore(dir = join(cacheDir(), "podman")): Promise<PodmanStore> {
  await requireProgram("podman", { why: "to build and run the container image" });
  await Deno.mkdir(join(dir, "storage"), { recursive: true });
  // One run root per store: stores under different caches must not share their state.
  const digest = new Uint8Array(
    await crypto.subtle.digest("SHA-1", new TextEncoder().encode(dir)),
  );
  const id = Array.from(digest.slice(0, 4), (b) => b.toString(16).padStart(2, "0")).join("");
  const runRoot = join(Deno.env.get("XDG_RUNTIME_DIR") ?? "/run", `consumerd-podman-${id}`);
  const conf = join(dir, "storage.conf");
  if (!await Deno.stat(conf).then(() => true, () => false)) {
    // The driver the machine's own store uses (podman wants it named).
    const info = await podman({ dir, env: {} }, ["info", "--format", "{{.Store.GraphDriverName}}"]);
    await Deno.writeTextFile(
      conf,
      `[storage]\ndriver = "${info.stdout.trim()}"\ngraphroot = "${join(dir, "storage")}"\n` +
        `runroot = "${runRoot}"\n`,
    );
  }
  const env: Record<string, string> = { CONTAINERS_STORAGE_CONF: conf };
  const containersConf = join(dir, "containers.conf");
  if (await Deno.stat(containersConf).then(() => true, () => false)) {
    env.CONTAINERS_CONF = containersConf;
  }
  return { dir, env };
}

/**
 * Runs `podman args…` against the store. With `check` (the default) a
 * non-zero exit throws a {@linkcode PodmanError} with the tail of its stderr.
 */
export async function podman(
  store: PodmanStore,
  args: string[],
  { check = true }: { check?: boolean } = {},
): Promise<PodmanResult> {
  const out = await new Deno.Command("podman", {
    args,
    env: store.env,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const result = {
    code: out.code,
    stdout: new TextDecoder().decode(out.stdout),
    stderr: new TextDecoder().decode(out.stderr),
  };
  if (check && result.code !== 0) {
    throw new PodmanError(
      `podman ${args.slice(0, 3).join(" ")} … failed (exit ${result.code}):\n${
        tail(result.stderr, 20)
      }`,
    );
  }
  return result;
}

/** This process's hard limit for a `/proc/self/limits` row ("Max open files"), or null. */
function hardLimit(row: string): number | null {
  const line = Deno.readTextFileSync("/proc/self/limits").split("\n")
    .find((l) => l.startsWith(row));
  const hard = line?.slice(row.length).trim().split(/\s+/)[1];
  return hard === undefined || hard === "unlimited" ? null : Number(hard);
}

/**
 * The engine's defaults do not run everywhere; what else this machine may need:
 * - ulimits: podman 4.3 asks the runtime for 1048576 open files and processes
 *   unless told otherwise, which fails where podman lacks CAP_SYS_RESOURCE
 *   ("setrlimit `RLIMIT_NOFILE`: Operation not permitted"). Given instead:
 *   this process's own hard limits, processes capped at 32768, the limit podman
 *   4.3 sets on itself before it starts the runtime.
 * - runc: crun 1.8 refuses a hybrid cgroup v1 host whose cgroup2 mount has a
 *   controller ("cgroups in hybrid mode not supported"); runc runs there.
 */
function candidates(): Array<{ what: string; conf: string }> {
  const nofile = hardLimit("Max open files") ?? 1048576;
  const nproc = Math.min(hardLimit("Max processes") ?? 32768, 32768);
  const ulimits = `[containers]\ndefault_ulimits = ["nofile=${nofile}:${nofile}", ` +
    `"nproc=${nproc}:${nproc}"]\n`;
  const runc = `[engine]\nruntime = "runc"\n`;
  return [
    { what: "podman's defaults", conf: "" },
    { what: `ulimits nofile=${nofile} nproc=${nproc}`, conf: ulimits },
    { what: "the runc runtime", conf: runc },
    { what: `the runc runtime and ulimits nofile=${nofile} nproc=${nproc}`, conf: ulimits + runc },
  ];
}

/**
 * Finds the settings under which podman runs a container of `image` on this
 * machine (its defaults first), writes them to the store's containers.conf
 * (podman build and run read it through `CONTAINERS_CONF`), and says what it
 * chose. Throws a {@linkcode PodmanError} with each attempt's error if none runs.
 */
export async function engineSettings(store: PodmanStore, image: string): Promise<string> {
  const containersConf = join(store.dir, "containers.conf");
  const failures: string[] = [];
  for (const { what, conf } of candidates()) {
    const env = { ...store.env };
    delete env.CONTAINERS_CONF;
    if (conf !== "") {
      await Deno.writeTextFile(containersConf, conf);
      env.CONTAINERS_CONF = containersConf;
    }
    const trial = { ...store, env };
    const out = await podman(trial, ["run", "--rm", image, "true"], { check: false });
    if (out.code === 0) {
      if (conf === "") await Deno.remove(containersConf).catch(() => {});
      store.env = env;
      return what;
    }
    failures.push(`with ${what}: ${tail(out.stderr, 2)}`);
  }
  await Deno.remove(containersConf).catch(() => {});
  throw new PodmanError(
    `podman cannot run a container on this machine:\n${failures.join("\n")}\n` +
      "(runc: apt-get install -y runc)",
  );
}

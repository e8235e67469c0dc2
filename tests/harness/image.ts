/**
 * Stands in for a container engine where none runs: lays out the image's
 * files the way the Dockerfile's build stage does, and mounts a config
 * directory the way the kubelet mounts a ConfigMap.
 *
 * @module
 */
import assert from "node:assert/strict";
import { basename, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { KafkaAdmin } from "../../src/kafka/kafkajs/admin.ts";
import type { DaemonProcess } from "./daemon.ts";
import { envAssignments, execForm, type Instruction, parseDockerfile } from "./dockerfile.ts";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const HIDDEN_LOCK = "node_modules/.package-lock.json";

/** The Dockerfile's instructions. */
export function dockerfile(): Instruction[] {
  return parseDockerfile(Deno.readTextFileSync(join(ROOT, "Dockerfile")));
}

function finalStage(instructions: Instruction[]): Instruction[] {
  const last = Math.max(...instructions.map((i) => i.stage));
  return instructions.filter((i) => i.stage === last);
}

/** The image's `CMD`, exactly as written. */
export function imageCmd(instructions = dockerfile()): string[] {
  const cmd = finalStage(instructions).filter((i) => i.keyword === "CMD");
  if (cmd.length !== 1) throw new Error(`expected one CMD in the final stage, found ${cmd.length}`);
  return execForm(cmd[0]!);
}

/** The `ENV` of the image's final stage. */
export function imageEnv(instructions = dockerfile()): Record<string, string> {
  return Object.assign(
    {},
    ...finalStage(instructions).filter((i) => i.keyword === "ENV").map(envAssignments),
  );
}

async function sh(script: string, cwd: string): Promise<void> {
  const out = await new Deno.Command("sh", {
    args: ["-c", script],
    cwd,
    stdout: "piped",
    stderr: "piped",
  })
    .output();
  if (!out.success) {
    throw new Error(
      `"${script}" failed in ${cwd} (exit ${out.code}):\n${new TextDecoder().decode(out.stderr)}`,
    );
  }
}

/**
 * A fresh directory holding what the build stage leaves in WORKDIR: each
 * `COPY` from the repository, and each `RUN`. `npm ci` is the one step not
 * repeated: this checkout's `node_modules` (installed by `npm ci` from the
 * same lock file) is hard-linked in instead, and the rest of that `RUN`
 * (pruning development packages) runs as written.
 */
export async function imageTree(): Promise<string> {
  const tree = await Deno.makeTempDir({ prefix: "consumerd-image-" });
  const build = dockerfile().filter((i) => i.stage === 0);
  for (const step of build) {
    if (step.keyword === "COPY") {
      const parts = step.args.split(/\s+/);
      const dest = join(tree, parts.at(-1)!);
      for (const source of parts.slice(0, -1)) {
        const target = dest.endsWith("/") && !source.endsWith("/")
          ? join(dest, basename(source))
          : dest;
        await sh(
          `mkdir -p "${join(target, "..")}" && cp -r "${join(ROOT, source)}" "${target}"`,
          tree,
        );
      }
    } else if (step.keyword === "RUN") {
      const npmCi = /^npm ci\b[^&]*(&&\s*)?/;
      if (npmCi.test(step.args)) {
        // Hard links cost no space; npm rewrites its hidden lock file in place, so that one is
        // copied, never linked (the checkout's own must not change).
        await sh(
          `cp -al "${join(ROOT, "node_modules")}" node_modules && rm -f ${HIDDEN_LOCK} && ` +
            `cp "${join(ROOT, HIDDEN_LOCK)}" ${HIDDEN_LOCK}`,
          tree,
        );
      }
      const rest = step.args.replace(npmCi, "").trim();
      if (rest !== "") await sh(rest, tree);
    }
  }
  return tree;
}

/**
 * Copies the files of `source` into a fresh directory laid out like a
 * Kubernetes ConfigMap volume: the files live in a timestamped directory,
 * `..data` links to it, and each name links to `..data/<name>`. Readable by
 * every user, as the kubelet's default mode (0644) makes it.
 */
export async function configMapMount(source: string): Promise<string> {
  const mount = await Deno.makeTempDir({ prefix: "consumerd-configmap-" });
  const version = "..2026_11_29_12_00_00.000000001";
  await Deno.chmod(mount, 0o755);
  await Deno.mkdir(join(mount, version), { mode: 0o755 });
  for await (const entry of Deno.readDir(source)) {
    await Deno.copyFile(join(source, entry.name), join(mount, version, entry.name));
    await Deno.chmod(join(mount, version, entry.name), 0o644);
    await Deno.symlink(join("..data", entry.name), join(mount, entry.name));
  }
  await Deno.symlink(version, join(mount, "..data"));
  return mount;
}

/**
 * Asserts what a drained daemon leaves: one "shutting down", each of its
 * `workers` stopped, and on every partition of `topic` the group's committed
 * offset one past the last offset the daemon handled there (none if it
 * handled nothing).
 */
export async function assertDrained(
  daemon: DaemonProcess,
  { admin, group, topic, workers }: {
    admin: KafkaAdmin;
    group: string;
    topic: string;
    workers: number;
  },
): Promise<void> {
  assert.equal(daemon.logged("shutting down").length, 1);
  const drained = daemon.logged("worker state").filter((r) => r.to === "stopped");
  assert.equal(drained.length, workers, `all ${workers} workers drained and stopped`);
  for (const { partition, offset } of await admin.committed(group, topic)) {
    const handled = daemon.handled().filter((h) => h.partition === partition)
      .map((h) => BigInt(h.offset));
    const expected = handled.length === 0
      ? null
      : String(handled.reduce((a, b) => (a > b ? a : b)) + 1n);
    assert.equal(offset, expected, `partition ${partition}: committed = last handled + 1`);
  }
}

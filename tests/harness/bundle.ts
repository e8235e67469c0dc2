/**
 * A copy of the package with a freshly built worker bundle, as the image
 * runs it: the daemon started from it starts its workers from the bundle.
 *
 * @module
 */
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { buildWorkerBundle } from "../../scripts/build.ts";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

/** A copy of the package in a temporary directory: its sources and deno.json, node_modules linked. */
export async function packageCopy(): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "consumerd-bundle-" });
  await new Deno.Command("cp", { args: ["-r", join(ROOT, "src"), join(ROOT, "deno.json"), dir] })
    .output();
  await Deno.symlink(join(ROOT, "node_modules"), join(dir, "node_modules"));
  return dir;
}

/** A {@linkcode packageCopy} with a freshly built bundle. */
export async function packageWithBundle(): Promise<string> {
  const dir = await packageCopy();
  await buildWorkerBundle(dir);
  return dir;
}

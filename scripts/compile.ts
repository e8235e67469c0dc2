/**
 * `deno task compile`: builds `dist/consumerd`, a single executable of the
 * daemon, with `bun build --compile`.
 *
 * The worker entry is a second entry point, embedded next to the bundle
 * (`src/runtime/compiled.ts` finds it there); handler modules are not
 * bundled: the binary imports them from disk, relative to the config file,
 * when a worker starts. Workers are not sandboxed (as on Bun); `deno compile`
 * is the sandboxed alternative where Deno's servers are reachable.
 *
 * @module
 */
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../", import.meta.url));

/** The Bun binary installed from npm. */
export const BUN: string = join(ROOT, "node_modules", "bun", "bin", "bun.exe");

/** Where the executable is written by default. */
export const DEFAULT_OUTFILE: string = join(ROOT, "dist", "consumerd");

/**
 * Builds the executable at `outfile` and returns its size in bytes; throws
 * with Bun's output when the build fails.
 *
 * @example
 * ```ts
 * const bytes = await compileDaemon(DEFAULT_OUTFILE);
 * ```
 */
export async function compileDaemon(outfile: string): Promise<number> {
  const out = await new Deno.Command(BUN, {
    args: [
      "build",
      "--compile",
      // Entry points relative to src/: the worker is embedded as worker/entry.js.
      join(ROOT, "src", "main.ts"),
      join(ROOT, "src", "worker", "entry.ts"),
      "--outfile",
      outfile,
    ],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!out.success) {
    const text = new TextDecoder().decode(out.stderr) + new TextDecoder().decode(out.stdout);
    throw new Error(`bun build --compile failed (exit ${out.code}):\n${text}`);
  }
  return (await Deno.stat(outfile)).size;
}

if (import.meta.main) {
  const outfile = Deno.args[0] ?? DEFAULT_OUTFILE;
  const bytes = await compileDaemon(outfile);
  console.error(`wrote ${outfile} (${(bytes / 1024 / 1024).toFixed(1)} MiB)`);
}

/**
 * `deno task compile`: builds `dist/consumerd`, a single executable of the
 * daemon, with `bun build --compile`.
 *
 * The worker entry and the handler probe's entry (check and reload import
 * handlers in it) are further entry points, embedded next to the bundle
 * (`src/runtime/compiled.ts` finds them there); handler modules are not
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

/**
 * Runs the Bun binary with `args` in `cwd`; throws with its output when it
 * fails.
 *
 * @example
 * ```ts ignore
 * await runBun(["build", "src/worker/entry.ts", "--outdir=dist/worker"], ROOT);
 * ```
 */
export async function runBun(args: string[], cwd: string): Promise<void> {
  const out = await new Deno.Command(BUN, { args, cwd, stdout: "piped", stderr: "piped" }).output();
  if (!out.success) {
    const text = new TextDecoder().decode(out.stderr) + new TextDecoder().decode(out.stdout);
    throw new Error(`bun ${args[0]} failed (exit ${out.code}):\n${text}`);
  }
}

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
  await runBun([
    "build",
    "--compile",
    // Entry points relative to src/: the worker is embedded as worker/entry.js.
    join(ROOT, "src", "main.ts"),
    join(ROOT, "src", "worker", "entry.ts"),
    join(ROOT, "src", "supervisor", "handler_probe_entry.ts"),
    "--outfile",
    outfile,
  ], ROOT);
  return (await Deno.stat(outfile)).size;
}

if (import.meta.main) {
  const outfile = Deno.args[0] ?? DEFAULT_OUTFILE;
  const bytes = await compileDaemon(outfile);
  console.error(`wrote ${outfile} (${(bytes / 1024 / 1024).toFixed(1)} MiB)`);
}

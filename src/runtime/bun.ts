/**
 * The Bun adapter: workers run with the daemon's own permissions.
 *
 * @module
 */
import process from "node:process";
import { embeddedWorkerEntry } from "./compiled.ts";
import type { DaemonSignal, Runtime } from "./types.ts";

/** The runtime adapter for Bun. */
export const bunRuntime: Runtime = {
  name: "bun",
  sandbox: false,
  spawnWorker(url, { name }) {
    // In an executable from `deno task compile` the entry is embedded, not on disk.
    return new Worker(embeddedWorkerEntry(url, import.meta.url), { type: "module", name });
  },
  onSignal(signal: DaemonSignal, listener: () => void) {
    process.on(signal, listener);
    return () => void process.off(signal, listener);
  },
  exit: (code) => process.exit(code),
  env: (name) => process.env[name],
  args: () => process.argv.slice(2),
};

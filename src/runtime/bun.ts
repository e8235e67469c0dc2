/**
 * The Bun adapter: workers run with the daemon's own permissions.
 *
 * @module
 */
import { type FSWatcher, watch } from "node:fs";
import { join } from "node:path";
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
  watchDirectories(dirs, listener) {
    const watchers: FSWatcher[] = [];
    for (const dir of dirs) {
      try {
        const watcher = watch(dir, { recursive: false }, (_event, name) => {
          listener(name === null ? dir : join(dir, String(name)));
        });
        watcher.on("error", () => {});
        watchers.push(watcher);
      } catch {
        continue; // a directory that does not exist has nothing to watch
      }
    }
    return () => {
      for (const watcher of watchers) watcher.close();
    };
  },
  exit: (code) => process.exit(code),
  env: (name) => process.env[name],
  args: () => process.argv.slice(2),
};

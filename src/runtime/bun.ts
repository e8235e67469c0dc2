/**
 * The Bun adapter: workers run with the daemon's own permissions.
 *
 * @module
 */
import { watch } from "node:fs";
import { basename, join } from "node:path";
import process from "node:process";
import { embeddedWorkerEntry } from "./compiled.ts";
import type { DaemonSignal, Runtime } from "./types.ts";
import { type OpenWatch, watchDirectories } from "./watch.ts";

/** The part of Bun's API the adapter uses (Bun's types are not loaded under Deno). */
interface BunServeApi {
  serve(options: {
    hostname: string;
    port: number;
    fetch: (request: Request) => Promise<Response>;
    maxRequestBodySize: number;
    idleTimeout: number;
  }): { port: number; stop(closeActive?: boolean): Promise<void> | void };
}

/** One `fs.watch` of a directory. */
const openWatch: OpenWatch = (dir, { change, fail, gone }) => {
  const watcher = watch(dir, { recursive: false }, (event, name) => {
    change(name === null ? dir : join(dir, String(name)));
    // The directory itself removed or moved: named by its own base name.
    if (event === "rename" && name !== null && String(name) === basename(dir)) gone();
  });
  watcher.on("error", fail);
  return () => watcher.close();
};

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
  serve({ hostname, port, handler, maxBodyBytes }) {
    const bun = (globalThis as unknown as { Bun: BunServeApi }).Bun;
    const server = bun.serve({
      hostname,
      port,
      fetch: handler,
      maxRequestBodySize: maxBodyBytes,
      // Seconds a connection may stay silent, a slow client's request included.
      idleTimeout: 30,
    });
    return {
      port: server.port,
      close: async () => void await server.stop(true),
    };
  },
  watchDirectories(dirs, listener, options) {
    return watchDirectories(dirs, listener, openWatch, options);
  },
  exit: (code) => process.exit(code),
  env: (name) => process.env[name],
  args: () => process.argv.slice(2),
};

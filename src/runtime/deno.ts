/**
 * The Deno adapter: sandboxed workers through `deno.permissions`.
 *
 * @module
 */
import type { DaemonSignal, Runtime, WorkerPermissions } from "./types.ts";
import { type OpenWatch, watchDirectories } from "./watch.ts";

/**
 * V8's `gc`, with which a worker hands back its start-up memory
 * (`src/worker/startup_memory.ts`; the daemon works without it).
 */
export const EXPOSE_GC_FLAG = "--v8-flags=--expose-gc";
/** The Deno flags the daemon runs with: sandboxed workers need the worker options. */
export const DAEMON_DENO_FLAGS = ["--unstable-worker-options", EXPOSE_GC_FLAG] as const;

function denoPermissions(p: WorkerPermissions): Deno.PermissionOptionsObject {
  return {
    net: p.net,
    read: p.read,
    write: p.write.length > 0 ? p.write : false,
    env: p.env,
    run: false,
    ffi: false,
    sys: ["hostname", "osRelease", "uid", "gid"],
    import: false,
  };
}

/** One `Deno.watchFs` of a directory. */
const openWatch: OpenWatch = (dir, { change, fail, gone }) => {
  const watcher = Deno.watchFs(dir, { recursive: false });
  let closed = false;
  (async () => {
    for await (const event of watcher) {
      // Reading a file (the reload itself does) is not a change.
      if (event.kind === "access") continue;
      for (const path of event.paths) change(path);
      if ((event.kind === "remove" || event.kind === "rename") && event.paths.includes(dir)) gone();
    }
  })().then(
    () => closed || fail(new Error("the watch ended")),
    (error) => closed || fail(error),
  );
  return () => {
    closed = true;
    try {
      watcher.close();
    } catch { /* already closed */ }
  };
};

/** The runtime adapter for Deno. */
export const denoRuntime: Runtime = {
  name: "deno",
  sandbox: true,
  spawnWorker(url, { name, permissions }) {
    return new Worker(url, {
      type: "module",
      name,
      // Needs --unstable-worker-options; without it Deno refuses to start the worker.
      deno: { permissions: denoPermissions(permissions) },
    });
  },
  onSignal(signal: DaemonSignal, listener: () => void) {
    Deno.addSignalListener(signal, listener);
    return () => Deno.removeSignalListener(signal, listener);
  },
  serve({ hostname, port, handler }) {
    const server = Deno.serve({ hostname, port, onListen: () => {} }, handler);
    return {
      port: server.addr.port,
      close: () => server.shutdown(),
    };
  },
  watchDirectories(dirs, listener, options) {
    return watchDirectories(dirs, listener, openWatch, options);
  },
  exit: (code) => Deno.exit(code),
  env: (name) => Deno.env.get(name),
  args: () => Deno.args,
};

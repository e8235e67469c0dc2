/**
 * The Deno adapter: sandboxed workers through `deno.permissions`.
 *
 * @module
 */
import type { DaemonSignal, Runtime, WorkerPermissions } from "./types.ts";

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
  watchDirectories(dirs, listener) {
    const watchers: Deno.FsWatcher[] = [];
    for (const dir of dirs) {
      try {
        watchers.push(Deno.watchFs(dir, { recursive: false }));
      } catch {
        continue; // a directory that does not exist has nothing to watch
      }
    }
    for (const watcher of watchers) {
      (async () => {
        for await (const event of watcher) {
          // Reading a file (the reload itself does) is not a change.
          if (event.kind === "access") continue;
          for (const path of event.paths) listener(path);
        }
      })().catch(() => {});
    }
    return () => {
      for (const watcher of watchers) {
        try {
          watcher.close();
        } catch { /* already closed */ }
      }
    };
  },
  exit: (code) => Deno.exit(code),
  env: (name) => Deno.env.get(name),
  args: () => Deno.args,
};

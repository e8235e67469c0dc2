/**
 * Directory watching that survives the directory being replaced: a watch
 * follows the directory it was opened on, so after `rm -rf dir && mkdir dir`,
 * a `mv` over it, or a symlinked directory swapped to a new target, it sees
 * nothing more. A watch that reports its directory gone, or that fails, is
 * given up at once, and each watched path is looked at every `checkMs` (a
 * symlink swapped to another directory, a directory missing at first); the
 * loss is reported and the path is watched anew as soon as a directory is
 * there. Runtime-neutral: each adapter supplies how to open one watch.
 *
 * @module
 */
import { realpathSync, statSync } from "node:fs";

/** Opens one non-recursive watch of `dir`; returns a function that closes it. Throws if it cannot. */
export type OpenWatch = (
  dir: string,
  on: {
    /** An entry of `dir` (or `dir` itself) was created, changed, renamed or removed. */
    change(path: string): void;
    /** The watch failed or ended by itself: it sees nothing more. */
    fail(error: unknown): void;
    /**
     * `dir` itself was removed or moved away: the watch followed it. (Its
     * replacement can carry the same inode number, so only this tells.)
     */
    gone(): void;
  },
) => () => void;

/** What a watcher reports besides changes; see {@linkcode watchDirectories}. */
export interface WatchOptions {
  /** The watch of `dir` stopped seeing changes (`reason` says why); it is re-armed once `dir` exists. */
  onLost?: (dir: string, reason: string) => void;
  /** `dir` is watched again after a loss; the listener is called with `dir` too (changes may have been missed). */
  onRearmed?: (dir: string) => void;
  /** How often each path is looked at, ms (default 1000). */
  checkMs?: number;
}

/** The identity of the directory at `path` now (device and inode), or null when there is none. */
function directoryAt(path: string): string | null {
  try {
    const info = statSync(path);
    return info.isDirectory() ? `${info.dev}:${info.ino}` : null;
  } catch {
    return null;
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Watches `dirs` with `open` and calls `listener` with the path of each entry
 * that changes; keeps each watch armed across replacements of its directory
 * (see the module doc). Returns a function that stops everything.
 *
 * @example
 * ```ts
 * const stop = watchDirectories(["/etc/consumerd"], (path) => console.log(path), open, {
 *   onLost: (dir, reason) => console.warn(dir, reason),
 * });
 * ```
 */
export function watchDirectories(
  dirs: readonly string[],
  listener: (path: string) => void,
  open: OpenWatch,
  { onLost, onRearmed, checkMs = 1000 }: WatchOptions = {},
): () => void {
  const watches = [...new Set(dirs)].map((dir) => ({
    dir,
    /** The directory being watched, or null while none is. */
    identity: null as string | null,
    close: null as (() => void) | null,
    /** A loss was reported and no watch is armed since. */
    lost: false,
  }));
  type Watch = (typeof watches)[number];
  let stopped = false;

  const disarm = (watch: Watch, reason: string) => {
    watch.close?.();
    watch.close = null;
    watch.identity = null;
    if (!watch.lost) onLost?.(watch.dir, reason);
    watch.lost = true;
  };
  const arm = (watch: Watch, identity: string) => {
    try {
      // The directory itself, not a link to it: Deno's watch of a link whose
      // target was swapped while watched saw nothing once opened again.
      const real = realpathSync(watch.dir);
      watch.close = open(real, {
        change: (path) =>
          listener(path.startsWith(real) ? `${watch.dir}${path.slice(real.length)}` : path),
        // A failure is noticed now; the next look re-arms the watch.
        fail: (error) => {
          if (!stopped && watch.identity === identity) {
            disarm(watch, `the watch failed: ${describe(error)}`);
          }
        },
        gone: () => {
          if (!stopped && watch.identity === identity) {
            disarm(watch, "the directory was removed or replaced");
          }
        },
      });
    } catch (error) {
      disarm(watch, `cannot watch it: ${describe(error)}`);
      return;
    }
    watch.identity = identity;
    if (watch.lost) {
      watch.lost = false;
      onRearmed?.(watch.dir);
      listener(watch.dir);
    }
  };
  const look = () => {
    for (const watch of watches) {
      const identity = directoryAt(watch.dir);
      if (identity === watch.identity && watch.close !== null) continue;
      if (watch.close !== null) {
        disarm(
          watch,
          identity === null ? "the directory was removed" : "the directory was replaced",
        );
      }
      if (identity === null) {
        if (!watch.lost) disarm(watch, "the directory does not exist");
        continue;
      }
      arm(watch, identity);
    }
  };
  look();
  const timer = setInterval(look, checkMs);
  return () => {
    stopped = true;
    clearInterval(timer);
    for (const watch of watches) watch.close?.();
  };
}

/**
 * A handler's project: the nearest directory up from the handler module
 * that holds a package.json, as npm and Node's resolution see it. Its
 * workers may read all of it (its own modules, and the packages installed
 * in its node_modules, which read files beside themselves). Read from the
 * file system each time it is asked (a worker start, a probe).
 *
 * @module
 */
import { existsSync, realpathSync } from "node:fs";
import { dirname, join } from "node:path";

/** Where a handler's project is, and where its files really are when links lead elsewhere. */
export interface HandlerProject {
  /** The directory of the handler's package.json. */
  root: string;
  /** The real locations of `root` and of `root/node_modules`, where they are links to elsewhere. */
  linked: string[];
}

/** `path`'s real location when it is elsewhere (it is, or is under, a link); else undefined. */
function elsewhere(path: string): string | undefined {
  try {
    const real = realpathSync(path);
    return real === path ? undefined : real;
  } catch {
    return undefined;
  }
}

/**
 * The project of the handler module at `handler` (absolute), or null when
 * no directory above it, short of the file system's root, holds a
 * package.json (a package.json at `/` would make the whole disk readable).
 *
 * @example
 * ```ts
 * handlerProject("/etc/consumerd/handlers/price.ts"); // { root: "/etc/consumerd", linked: [] }
 * ```
 */
export function handlerProject(handler: string): HandlerProject | null {
  for (let dir = dirname(handler); dirname(dir) !== dir; dir = dirname(dir)) {
    if (!existsSync(join(dir, "package.json"))) continue;
    const linked = [elsewhere(dir), elsewhere(join(dir, "node_modules"))]
      .filter((p): p is string => p !== undefined);
    return { root: dir, linked };
  }
  return null;
}

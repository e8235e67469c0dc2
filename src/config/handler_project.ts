/**
 * A handler's project: the nearest directory up from the handler module
 * that holds a package.json, as npm and Node's resolution see it. Its
 * workers may read all of it (its own modules, and the packages installed
 * in its node_modules, which read files beside themselves). Read from the
 * file system each time it is asked (a worker start, a probe).
 *
 * @module
 */
import { existsSync, readdirSync, realpathSync } from "node:fs";
import { dirname, join } from "node:path";

/** Where a handler's project is, and where its files really are when links lead elsewhere. */
export interface HandlerProject {
  /** The directory of the handler's package.json. */
  root: string;
  /**
   * The real locations of `root`, of `root/node_modules` and of the packages
   * linked into it (`npm install <dir>`, npm workspaces), where they are
   * outside `root`.
   */
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
 * Where the packages in `modules` that are links (`npm install <dir>`, npm
 * workspaces) really are: their files load and are read from there.
 * `@scope/name` entries included; deeper node_modules are not looked at.
 */
function linkedPackages(modules: string): string[] {
  const entries = (dir: string) => {
    try {
      return readdirSync(dir, { withFileTypes: true });
    } catch {
      return [];
    }
  };
  return entries(modules).flatMap((entry) => {
    const path = join(modules, entry.name);
    if (entry.isSymbolicLink()) return [elsewhere(path)].filter((p) => p !== undefined);
    if (!entry.isDirectory() || !entry.name.startsWith("@")) return [];
    return entries(path).filter((e) => e.isSymbolicLink())
      .flatMap((e) => [elsewhere(join(path, e.name))].filter((p) => p !== undefined));
  });
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
    const modules = join(dir, "node_modules");
    const linked = [elsewhere(dir), elsewhere(modules), ...linkedPackages(modules)]
      .filter((p): p is string => p !== undefined && !p.startsWith(`${dir}/`));
    return { root: dir, linked: [...new Set(linked)] };
  }
  return null;
}

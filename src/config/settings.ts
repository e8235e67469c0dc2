/**
 * A consumer's `settings:` and the values in them that came from the
 * environment (`${VAR}`): those are left out of anything the daemon shows,
 * fingerprints included. Pure.
 *
 * @module
 */
import type { FieldPath } from "./locate.ts";

/** A path into a settings value: mapping keys and list indexes. */
export type SettingsPath = Array<string | number>;

/** The value at `path` inside `value`, or undefined. */
export function valueAt(value: unknown, path: FieldPath): unknown {
  let current = value;
  for (const segment of path) {
    if (current === null || typeof current !== "object") return undefined;
    current = (current as Record<string | number, unknown>)[segment];
  }
  return current;
}

/**
 * The paths of the string values inside `settings` that are among
 * `fromEnv` (values that `${VAR}` interpolation produced anywhere in the
 * file). Matched by value, so that a value reached through a YAML alias or
 * merge key is found too; a literal that happens to equal one is left out
 * as well, which only hides more.
 *
 * @example
 * ```ts
 * envSettingPaths({ table: "t", token: "s3cr3t" }, new Set(["s3cr3t"])); // [["token"]]
 * ```
 */
export function envSettingPaths(settings: unknown, fromEnv: ReadonlySet<string>): SettingsPath[] {
  const found: SettingsPath[] = [];
  const stack: Array<{ value: unknown; path: SettingsPath }> = [{ value: settings, path: [] }];
  while (stack.length > 0) {
    const { value, path } = stack.pop()!;
    if (typeof value === "string") {
      if (fromEnv.has(value)) found.push(path);
    } else if (Array.isArray(value)) {
      value.forEach((item, i) => stack.push({ value: item, path: [...path, i] }));
    } else if (value !== null && typeof value === "object") {
      for (const [key, item] of Object.entries(value)) {
        stack.push({ value: item, path: [...path, key] });
      }
    }
  }
  return found.sort((a, b) => JSON.stringify(a) < JSON.stringify(b) ? -1 : 1);
}

/**
 * A copy of `settings` with the values at `paths` replaced by `marker`.
 *
 * @example
 * ```ts
 * withoutEnvValues({ token: "s3cr3t" }, [["token"]], "[redacted]"); // { token: "[redacted]" }
 * ```
 */
export function withoutEnvValues(
  settings: unknown,
  paths: readonly SettingsPath[],
  marker: string,
): unknown {
  if (paths.length === 0) return settings;
  if (paths.some((p) => p.length === 0)) return marker;
  const copy = structuredClone(settings);
  for (const path of paths) {
    const parent = valueAt(copy, path.slice(0, -1));
    if (parent !== null && typeof parent === "object") {
      (parent as Record<string | number, unknown>)[path[path.length - 1]!] = marker;
    }
  }
  return copy;
}

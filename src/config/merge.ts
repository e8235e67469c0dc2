/**
 * How `defaults:` applies to a consumer, and where a merged field came from.
 *
 * A consumer's own value wins over `defaults:`, which wins over the built-in
 * defaults of the schema. The object fields `commit`, `retry`, `fetch`,
 * `permissions` and `settings` merge key by key, one level deep (a consumer
 * that sets `retry: { attempts: 5 }` keeps `backoffMs` from `defaults:`);
 * every other field, lists included, is replaced as a whole.
 *
 * @module
 */
import type { FieldPath } from "./locate.ts";
import { NESTED_CONSUMER_FIELDS } from "./schema.ts";

type Mapping = Record<string, unknown>;

/** Whether `value` is a plain mapping (not null, not a list). */
export function isMapping(value: unknown): value is Mapping {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

/**
 * The consumer as written, with `defaults:` filled in where it omits a field.
 * `name` never comes from `defaults:`.
 *
 * @example
 * ```ts
 * applyDefaults({ retry: { attempts: 5, backoffMs: 10 } }, { name: "a", retry: { attempts: 1 } });
 * // { name: "a", retry: { attempts: 1, backoffMs: 10 } }
 * ```
 */
export function applyDefaults(defaults: unknown, consumer: Mapping): Mapping {
  if (!isMapping(defaults)) return { ...consumer };
  const { name: _name, ...inherited } = defaults;
  const merged: Mapping = { ...inherited, ...consumer };
  for (const field of NESTED_CONSUMER_FIELDS) {
    const base = inherited[field];
    const own = consumer[field];
    if (isMapping(base) && isMapping(own)) merged[field] = { ...base, ...own };
  }
  return merged;
}

/**
 * The file path of a field of merged consumer `index`: the consumer's own
 * entry when it sets the field, else `defaults:` when that sets it, else the
 * consumer's entry (for a field that is missing altogether).
 *
 * @example
 * ```ts
 * fieldOrigin(2, ["retry", "backoffMs"], (path) => path[0] === "defaults");
 * // ["defaults", "retry", "backoffMs"]
 * ```
 */
export function fieldOrigin(
  index: number,
  path: FieldPath,
  exists: (path: FieldPath) => boolean,
): FieldPath {
  const own = ["consumers", index, ...path];
  if (path.length === 0 || exists(own)) return own;
  const inherited = ["defaults", ...path];
  return path[0] !== "name" && exists(inherited) ? inherited : own;
}

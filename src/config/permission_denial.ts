/**
 * A handler's permission denial in the config's terms: Deno's
 * `Requires net access to "db:5432", run again with the --allow-net flag`
 * becomes which consumer needs what, and which YAML key grants it. Pure.
 *
 * @module
 */

/** Deno's permission kinds. */
export type PermissionKind = "read" | "write" | "net" | "env" | "run" | "ffi" | "sys" | "import";

/** The kinds a consumer's `permissions:` can grant. */
export type GrantableKind = "net" | "read" | "write" | "env";

const GRANTABLE: ReadonlySet<string> = new Set<GrantableKind>(["net", "read", "write", "env"]);
const KINDS: ReadonlySet<string> = new Set<PermissionKind>([
  "read",
  "write",
  "net",
  "env",
  "run",
  "ffi",
  "sys",
  "import",
]);

/** What a handler was denied. */
export interface PermissionDenial {
  kind: PermissionKind;
  /** The host, path, variable or command; null when Deno names none ("all" of them). */
  target: string | null;
}

/** Where a config field is written: its path in the file and its 1-based line. */
export interface FieldPlace {
  path: string;
  line: number;
}

/** Where a consumer is written, for messages that tell the operator what to change. */
export interface ConsumerPlace {
  /** The consumer's index in `consumers:`. */
  index: number;
  name: string;
  /** The config file, as messages name it. */
  file: string;
  /** The line of the consumer's entry. */
  line: number;
  /** Where each permission list that applies to it is set (its own, or `defaults:`); absent where neither sets it. */
  permissions: Partial<Record<GrantableKind, FieldPlace>>;
  /** Where its `outputs` are set (its own, or `defaults:`); absent where neither sets them. */
  outputs?: FieldPlace;
}

// Deno: `Requires env access to "HOME", run again with the --allow-env flag` (NotCapable; at
// import a TypeError), `Requires env access, run again …` for all of them.
const REQUIRES = /\bRequires (\w+) access(?: to "((?:[^"\\]|\\.)*)")?/;

/**
 * The permission a thrown error says was missing, or null when it is not
 * a permission denial. Looks through `cause` (a library that wraps the
 * error), a few levels deep.
 *
 * @example
 * ```ts
 * permissionDenial(new Error('Requires net access to "db:5432", run again with the --allow-net flag'));
 * // { kind: "net", target: "db:5432" }
 * ```
 */
export function permissionDenial(error: unknown): PermissionDenial | null {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current !== null && current !== undefined; depth++) {
    const message = typeof current === "object" && "message" in current
      ? String((current as { message: unknown }).message)
      : typeof current === "string"
      ? current
      : "";
    const match = REQUIRES.exec(message);
    if (match !== null && KINDS.has(match[1]!)) {
      return { kind: match[1] as PermissionKind, target: match[2] ?? null };
    }
    current = typeof current === "object" ? (current as { cause?: unknown }).cause : undefined;
  }
  return null;
}

/**
 * The denial in the config's terms: who needs what, and the YAML key
 * (with its line) that grants it.
 *
 * @example
 * ```ts
 * denialMessage({ kind: "net", target: "127.0.0.1:5432" }, {
 *   index: 0, name: "price-orders", file: "consumers.yaml", line: 9,
 *   permissions: { net: { path: "consumers[0].permissions.net", line: 12 } },
 * });
 * // "consumers[0] (price-orders): the handler needs net access to 127.0.0.1:5432 — add it to
 * //  consumers[0].permissions.net (consumers.yaml:12)"
 * ```
 */
export function denialMessage(denial: PermissionDenial, place: ConsumerPlace): string {
  const who = `consumers[${place.index}] (${place.name})`;
  const what = `${denial.kind} access to ${denial.target ?? "all of them"}`;
  if (!GRANTABLE.has(denial.kind)) {
    return `${who}: the handler needs ${what}, which consumerd does not grant to handlers ` +
      `(consumers[${place.index}].permissions grants net, read, write and env)`;
  }
  const kind = denial.kind as GrantableKind;
  const field = place.permissions[kind] ??
    { path: `consumers[${place.index}].permissions.${kind}`, line: place.line };
  const where = `${field.path} (${place.file}:${field.line})`;
  if (denial.target === null) {
    return `${who}: the handler needs ${denial.kind} access to all of them, not one by name — ` +
      `only those listed in ${where} can be granted: ask for each by name and list it there`;
  }
  const it = kind === "read" || kind === "write" ? "add it, or a directory above it," : "add it";
  return `${who}: the handler needs ${what} — ${it} to ${where}`;
}

/**
 * `error` described in the config's terms when it is a permission denial
 * and the consumer's place is known; otherwise its own message.
 *
 * @example
 * ```ts
 * describeDenial(error, place) ?? String(error);
 * ```
 */
export function describeDenial(
  error: unknown,
  place: ConsumerPlace | null | undefined,
): string | null {
  if (place === null || place === undefined) return null;
  const denial = permissionDenial(error);
  return denial === null ? null : denialMessage(denial, place);
}

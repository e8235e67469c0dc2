/**
 * Command-line flags: `--name value`, `--name=value` and boolean `--flag`.
 *
 * @module
 */

/** Parsed arguments: positionals and flags. */
export interface ParsedArgs {
  positionals: string[];
  flags: Map<string, string | true>;
}

/**
 * Parses `args`; `booleans` names the flags that take no value.
 *
 * @example
 * ```ts
 * parseArgs(["run", "--config", "c.yaml"]).flags.get("config"); // "c.yaml"
 * ```
 */
export function parseArgs(args: readonly string[], booleans: readonly string[] = []): ParsedArgs {
  const positionals: string[] = [];
  const flags = new Map<string, string | true>();
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (!arg.startsWith("--")) {
      positionals.push(arg);
      continue;
    }
    const eq = arg.indexOf("=");
    if (eq > 0) {
      flags.set(arg.slice(2, eq), arg.slice(eq + 1));
    } else if (booleans.includes(arg.slice(2))) {
      flags.set(arg.slice(2), true);
    } else {
      const value = args[i + 1];
      if (value === undefined || value.startsWith("--")) {
        throw new TypeError(`Cannot parse flag ${arg} as it needs a value`);
      }
      flags.set(arg.slice(2), value);
      i++;
    }
  }
  return { positionals, flags };
}

/** A string flag's value, or `fallback`. */
export function flag(parsed: ParsedArgs, name: string, fallback: string): string {
  const value = parsed.flags.get(name);
  return typeof value === "string" ? value : fallback;
}

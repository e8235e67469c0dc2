/**
 * Reads a Dockerfile well enough to check it: its instructions by build
 * stage, exec-form commands and `ENV` assignments. Not a full parser: no
 * heredocs, no `ARG` substitution, no escape-character directive.
 *
 * @module
 */

/** One instruction, its continuation lines joined. */
export interface Instruction {
  /** Upper-case keyword: `FROM`, `RUN`, `CMD`, … */
  keyword: string;
  /** The rest of the instruction, trimmed. */
  args: string;
  /** 0 for the first `FROM`'s stage, 1 for the next, … */
  stage: number;
  /** 1-based line where it starts. */
  line: number;
}

/**
 * Splits a Dockerfile into instructions.
 *
 * @example
 * ```ts
 * parseDockerfile("FROM a AS b\nRUN x \\\n  && y")[1]; // { keyword: "RUN", args: "x && y", stage: 0, line: 2 }
 * ```
 */
export function parseDockerfile(text: string): Instruction[] {
  const out: Instruction[] = [];
  let stage = -1;
  let pending: { text: string; line: number } | null = null;
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!;
    const trimmed = raw.trim();
    if (pending === null && (trimmed === "" || trimmed.startsWith("#"))) continue;
    if (pending !== null && trimmed.startsWith("#")) continue; // comment inside a continuation
    const continues = trimmed.endsWith("\\");
    const part = continues ? trimmed.slice(0, -1).trim() : trimmed;
    pending = pending === null
      ? { text: part, line: i + 1 }
      : { text: `${pending.text} ${part}`.trim(), line: pending.line };
    if (continues) continue;
    const match = pending.text.match(/^(\S+)\s*(.*)$/s);
    if (match === null) throw new SyntaxError(`Dockerfile line ${pending.line}: empty instruction`);
    const keyword = match[1]!.toUpperCase();
    if (keyword === "FROM") stage++;
    out.push({ keyword, args: match[2]!.trim(), stage, line: pending.line });
    pending = null;
  }
  return out;
}

/**
 * The argv of an exec-form command (`["a", "b"]`); throws for shell form,
 * which would put a shell between the container runtime and the process.
 */
export function execForm(instruction: Instruction, args = instruction.args): string[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(args);
  } catch {
    throw new SyntaxError(
      `Dockerfile line ${instruction.line}: ${instruction.keyword} is not in exec form (a JSON array): ${args}`,
    );
  }
  if (!Array.isArray(parsed) || !parsed.every((a) => typeof a === "string")) {
    throw new SyntaxError(
      `Dockerfile line ${instruction.line}: ${instruction.keyword} must be a JSON array of strings`,
    );
  }
  return parsed;
}

/** The variables of an `ENV a=1 b="two words"` instruction. */
export function envAssignments(instruction: Instruction): Record<string, string> {
  const env: Record<string, string> = {};
  const pattern = /([A-Za-z_][A-Za-z0-9_]*)=("([^"]*)"|\S*)/g;
  for (const m of instruction.args.matchAll(pattern)) {
    env[m[1]!] = m[3] ?? m[2]!;
  }
  return env;
}

/** `--name=value` options before a command (as in `HEALTHCHECK --interval=5s CMD …`). */
export function leadingOptions(args: string): { options: Record<string, string>; rest: string } {
  const options: Record<string, string> = {};
  let rest = args;
  let m: RegExpMatchArray | null;
  while ((m = rest.match(/^--([a-z-]+)=(\S+)\s+/)) !== null) {
    options[m[1]!] = m[2]!;
    rest = rest.slice(m[0].length);
  }
  return { options, rest };
}

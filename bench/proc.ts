/**
 * CPU time and memory of a process, read from Linux's /proc.
 *
 * CPU time is user + system time of the process (all its threads, which
 * includes Web Workers and the JVM's threads) plus that of its live
 * descendants. Memory is the resident set: `VmRSS` now, `VmHWM` the peak.
 *
 * @module
 */

let ticksPerSecond: number | null = null;

/** Clock ticks per second of /proc/<pid>/stat times (`getconf CLK_TCK`, usually 100). */
async function clockTicks(): Promise<number> {
  if (ticksPerSecond !== null) return ticksPerSecond;
  try {
    const out = await new Deno.Command("getconf", { args: ["CLK_TCK"], stderr: "null" }).output();
    const value = Number(new TextDecoder().decode(out.stdout).trim());
    ticksPerSecond = Number.isFinite(value) && value > 0 ? value : 100;
  } catch {
    ticksPerSecond = 100;
  }
  return ticksPerSecond;
}

/** User + system ticks of one process (all its threads); null once it is gone. */
async function ownTicks(pid: number): Promise<number | null> {
  try {
    const stat = await Deno.readTextFile(`/proc/${pid}/stat`);
    // The command name (field 2) is in parentheses and may hold spaces: split after it.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after the name.
    return Number(fields[11]) + Number(fields[12]);
  } catch {
    return null;
  }
}

/** The live children of a process, from every thread's `children` list. */
async function childrenOf(pid: number): Promise<number[]> {
  const children: number[] = [];
  try {
    for await (const task of Deno.readDir(`/proc/${pid}/task`)) {
      const text = await Deno.readTextFile(`/proc/${pid}/task/${task.name}/children`).catch(
        () => "",
      );
      for (const child of text.split(" ")) if (child.trim() !== "") children.push(Number(child));
    }
  } catch { /* the process is gone */ }
  return children;
}

/**
 * CPU time (user + system, ms) used so far by a process and its live descendants.
 *
 * @example
 * ```ts
 * const before = await treeCpuMs(pid);
 * ```
 */
export async function treeCpuMs(pid: number): Promise<number> {
  const hz = await clockTicks();
  let ticks = 0;
  const queue = [pid];
  while (queue.length > 0) {
    const next = queue.pop()!;
    ticks += (await ownTicks(next)) ?? 0;
    queue.push(...await childrenOf(next));
  }
  return (ticks * 1000) / hz;
}

/** Resident memory of a process, KiB. */
export interface Memory {
  /** Resident set now (`VmRSS`). */
  rssKiB: number;
  /** Peak resident set (`VmHWM`). */
  peakKiB: number;
}

/**
 * Current and peak resident memory of one process.
 *
 * @example
 * ```ts
 * const { peakKiB } = await memory(pid);
 * ```
 */
export async function memory(pid: number): Promise<Memory> {
  const status = await Deno.readTextFile(`/proc/${pid}/status`);
  const field = (name: string): number => {
    const match = status.match(new RegExp(`^${name}:\\s+(\\d+) kB`, "m"));
    if (!match) {
      throw new Error(`Cannot read ${name} of process ${pid}: not in /proc/${pid}/status`);
    }
    return Number(match[1]);
  };
  return { rssKiB: field("VmRSS"), peakKiB: field("VmHWM") };
}

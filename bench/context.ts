/**
 * What a report says about the run itself: commit, machine, runtime and
 * library versions; and whether src/ changed while the benchmark ran.
 *
 * @module
 */
import { join } from "node:path";
import { franzVersion } from "./franz_client.ts";
import { parallelConsumerVersion } from "./parallel_consumer_client.ts";
import { ROOT, runtimeVersion } from "./runtimes.ts";

/** Runs git in the repository; its trimmed stdout ("" on failure). */
export async function git(args: string[]): Promise<string> {
  const out = await new Deno.Command("git", { args, cwd: ROOT, stderr: "null" }).output();
  return new TextDecoder().decode(out.stdout).trim();
}

/** What src/ holds: its tree at HEAD plus any uncommitted edits. */
export async function srcFingerprint(): Promise<string> {
  return `${await git(["rev-parse", "HEAD:src"])}\n${await git(["diff", "HEAD", "--", "src"])}`;
}

async function machine(): Promise<string> {
  const cpuinfo = await Deno.readTextFile("/proc/cpuinfo").catch(() => "");
  const model = cpuinfo.match(/^model name\s*:\s*(.+)$/m)?.[1] ?? "unknown CPU";
  const cores = cpuinfo.match(/^processor\s*:/gm)?.length ?? navigator.hardwareConcurrency;
  const memKiB = Number((await Deno.readTextFile("/proc/meminfo")).match(/MemTotal:\s+(\d+)/)?.[1]);
  return `${model}, ${cores} cores, ${Math.round(memKiB / 1024 / 1024)} GiB; load average ${
    Deno.loadavg().map((l) => l.toFixed(2)).join(" ")
  } at start`;
}

async function packageVersion(name: string): Promise<string> {
  try {
    const json = JSON.parse(
      await Deno.readTextFile(join(ROOT, "node_modules", name, "package.json")),
    );
    return String(json.version);
  } catch {
    return "not installed";
  }
}

/** The run as the report's header describes it. */
export interface RunContext {
  /** Short commit of HEAD at the start: R runs whatever src/ holds. */
  sha: string;
  /** {@linkcode srcFingerprint} at the start. */
  src: string;
  /** Header lines: date and commit, command, machine, versions. */
  lines: string[];
}

/**
 * Describes the run about to start.
 *
 * @example
 * ```ts
 * const context = await runContext(Deno.args, ["127.0.0.1:9092"]);
 * ```
 */
export async function runContext(args: string[], brokers: string[]): Promise<RunContext> {
  const sha = await git(["rev-parse", "--short", "HEAD"]);
  const dirty = (await git(["status", "--porcelain", "src"])) !== "";
  const versions = await Promise.all([
    runtimeVersion("node"),
    runtimeVersion("deno"),
    runtimeVersion("bun"),
    runtimeVersion("java"),
    runtimeVersion("go"),
    packageVersion("kafkajs"),
    packageVersion("@platformatic/kafka"),
    franzVersion(),
    parallelConsumerVersion(),
  ]);
  const [node, deno, bun, java, go, kafkajs, platformatic, franz, pc] = versions;
  return {
    sha,
    src: await srcFingerprint(),
    lines: [
      `Date: ${new Date().toISOString()}; commit ${sha}${
        dirty ? " (src/ has uncommitted changes)" : ""
      }`,
      `Command: \`deno task bench${args.length > 0 ? ` ${args.join(" ")}` : ""}\``,
      `Machine: ${await machine()}`,
      `Runtimes: Node ${node}; ${deno}; Bun ${bun}; ${java}; ${go}`,
      `Libraries: kafkajs ${kafkajs}; @platformatic/kafka ${platformatic}; franz-go ${franz}; Parallel Consumer ${pc}; broker: the local single-node Kafka at ${
        brokers.join(",")
      }`,
    ],
  };
}

/** A warning line when src/ is not what it was at the start of the run, else null. */
export async function srcChangedWarning(context: RunContext): Promise<string | null> {
  if (await srcFingerprint() === context.src) return null;
  const now = await git(["rev-parse", "--short", "HEAD"]);
  return `**Warning: src/ changed during the run** (commit ${context.sha} at the start, ${now} at the end, or uncommitted edits): R's runs may mix versions.`;
}

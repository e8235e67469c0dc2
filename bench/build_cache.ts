/**
 * Builds of the benchmark's clients that are not JavaScript (franz-go, the
 * Parallel Consumer), cached in the repository's `.cache/bench/` under a hash
 * of their sources and of the toolchain's version: built once, again when a
 * source or the toolchain changes.
 *
 * @module
 */
import { join } from "node:path";
import { exists } from "../scripts/broker.ts";
import { ROOT } from "./runtimes.ts";

/** What {@linkcode cachedBuild} builds. */
export interface BuildSpec {
  /** Names the cache entry, e.g. `franz-consumer`. */
  name: string;
  /** Files whose contents make the build what it is, relative to the repository root. */
  sources: string[];
  /** A command that prints the toolchain's version, e.g. `["go", "version"]`. */
  toolVersion: [string, ...string[]];
  /** Builds into `dir` (an empty directory); throws when it cannot. */
  build(dir: string): Promise<void>;
}

async function output(command: string, args: string[], cwd: string): Promise<Deno.CommandOutput> {
  try {
    return await new Deno.Command(command, { args, cwd, stdout: "piped", stderr: "piped" })
      .output();
  } catch (error) {
    throw new Error(`Cannot run \`${command}\`: ${(error as Error).message}`, { cause: error });
  }
}

/**
 * Runs a build command; throws with the last lines of its output when it fails.
 *
 * @example
 * ```ts
 * await runBuildCommand("go", ["build", "-o", "/tmp/out", "."], "bench/clients/franz");
 * ```
 */
export async function runBuildCommand(command: string, args: string[], cwd: string): Promise<void> {
  const out = await output(command, args, cwd);
  if (out.success) return;
  const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
  throw new Error(
    `\`${command} ${args.join(" ")}\` in ${cwd} exited ${out.code}:\n${
      text.trimEnd().split("\n").slice(-30).join("\n")
    }`,
  );
}

/** The hex SHA-256 of the sources' contents and the toolchain's version, 12 digits. */
async function buildHash(spec: BuildSpec): Promise<string> {
  const [command, ...args] = spec.toolVersion;
  const version = await output(command, args, ROOT);
  const parts = [
    new TextDecoder().decode(version.stdout) + new TextDecoder().decode(version.stderr),
    ...await Promise.all(spec.sources.map((s) => Deno.readTextFile(join(ROOT, s)))),
  ];
  const digest = await crypto.subtle.digest(
    "SHA-256",
    new TextEncoder().encode(parts.join("\0")),
  );
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("")
    .slice(0, 12);
}

/**
 * Returns the directory of a build, building it first unless the cache holds
 * it. A build goes to a temporary directory and is moved into place whole.
 *
 * @example
 * ```ts
 * const dir = await cachedBuild({
 *   name: "franz-consumer",
 *   sources: ["bench/clients/franz/main.go"],
 *   toolVersion: ["go", "version"],
 *   build: (dir) => runBuildCommand("go", ["build", "-o", `${dir}/franz-consumer`, "."], "bench/clients/franz"),
 * });
 * ```
 */
export async function cachedBuild(spec: BuildSpec): Promise<string> {
  let tmp: string | null = null;
  try {
    const dir = join(ROOT, ".cache", "bench", `${spec.name}-${await buildHash(spec)}`);
    if (await exists(join(dir, ".complete"))) return dir;
    tmp = `${dir}.tmp-${Deno.pid}`;
    await Deno.remove(tmp, { recursive: true }).catch(() => {});
    await Deno.mkdir(tmp, { recursive: true });
    await spec.build(tmp);
    await Deno.writeTextFile(join(tmp, ".complete"), new Date().toISOString());
    await Deno.remove(dir, { recursive: true }).catch(() => {});
    await Deno.rename(tmp, dir);
    return dir;
  } catch (error) {
    if (tmp !== null) await Deno.remove(tmp, { recursive: true }).catch(() => {});
    throw new Error(`Cannot build ${spec.name}: ${(error as Error).message}`, { cause: error });
  }
}

/**
 * A small Maven project of the benchmark's Java clients, built unless the
 * cache holds it: its jar and runtime dependencies, as a class path.
 *
 * @example
 * ```ts
 * const classPath = await cachedMavenBuild({
 *   name: "parallel-consumer",
 *   project: "bench/clients/parallel_consumer",
 *   sources: ["pom.xml", "ParallelConsumerBench.java"],
 *   jar: "bench-parallel-consumer-1.jar",
 * });
 * ```
 */
export async function cachedMavenBuild(
  { name, project, sources, jar }: {
    name: string;
    /** The project's folder, relative to the repository root. */
    project: string;
    /** Its files, relative to the project. */
    sources: string[];
    /** The jar `mvn package` writes into `target/`. */
    jar: string;
  },
): Promise<string> {
  const folder = join(ROOT, project);
  const dir = await cachedBuild({
    name,
    sources: sources.map((f) => `${project}/${f}`),
    toolVersion: ["java", "-version"],
    build: (out) =>
      runBuildCommand("mvn", [
        "-q",
        "-B",
        "-f",
        join(folder, "pom.xml"),
        `-DbuildDir=${join(out, "target")}`,
        "package",
        "dependency:copy-dependencies",
        `-DoutputDirectory=${join(out, "libs")}`,
        "-DincludeScope=runtime",
      ], folder),
  });
  return [join(dir, "target", jar), join(dir, "libs", "*")].join(":");
}

/**
 * The `java` arguments of a benchmark client built by {@linkcode cachedMavenBuild}:
 * the JVM settings every Java client runs with (-Xmx512m, G1, slf4j at warn), then
 * its main class and arguments.
 *
 * @example
 * ```ts
 * javaArgs(classPath, "ProduceBench", ["127.0.0.1:9092", "in", "g", "out", "eos"]);
 * ```
 */
export function javaArgs(classPath: string, mainClass: string, args: string[]): string[] {
  return [
    "-Xmx512m",
    "-XX:+UseG1GC",
    "-Djava.awt.headless=true",
    "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn",
    "-cp",
    classPath,
    mainClass,
    ...args,
  ];
}

/**
 * The development broker: a single-node Apache Kafka (KRaft) assembled from
 * Maven Central jars, started on loopback, cached between runs.
 *
 * Used by `deno task kafka`, `deno task dev` and `deno task test`.
 *
 * @module
 */
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { type BrokerTls, brokerTlsFiles, ensureBrokerTls } from "./broker_tls.ts";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
const POM = join(ROOT, "config/kafka/pom.xml");
const SERVER_TEMPLATE = join(ROOT, "config/kafka/server.properties");
const LOG4J = join(ROOT, "config/kafka/log4j2.properties");
const TOOLS_LOG4J = join(ROOT, "config/kafka/tools-log4j2.properties");

/** The Kafka command-line tools reachable through `deno task kafka tool <name>`. */
export const KAFKA_TOOLS: Record<string, string> = {
  "topics": "org.apache.kafka.tools.TopicCommand",
  "consumer-groups": "org.apache.kafka.tools.consumer.group.ConsumerGroupCommand",
  "console-producer": "org.apache.kafka.tools.ConsoleProducer",
  "console-consumer": "org.apache.kafka.tools.consumer.ConsoleConsumer",
  "producer-perf": "org.apache.kafka.tools.ProducerPerformance",
  "consumer-perf": "org.apache.kafka.tools.ConsumerPerformance",
  "delete-records": "org.apache.kafka.tools.DeleteRecordsCommand",
  "get-offsets": "org.apache.kafka.tools.GetOffsetShell",
  "transactions": "org.apache.kafka.tools.TransactionsCommand",
  "storage": "kafka.tools.StorageTool",
};

/** Where the broker listens and keeps its state. */
export interface BrokerOptions {
  host: string;
  port: number;
  controllerPort: number;
  /**
   * A second client listener, advertised at {@linkcode BrokerOptions.proxyPort}: a test puts a
   * proxy there, and every client that bootstraps through it keeps talking through it.
   */
  proxiedPort: number;
  /** Where the proxied listener says it is (nothing listens there unless a test's proxy does). */
  proxyPort: number;
  /** The SASL_SSL listener: TLS, then SCRAM-SHA-512, SCRAM-SHA-256 or PLAIN as {@linkcode BROKER_USER}. */
  saslSslPort: number;
  /** The SSL listener: TLS without SASL. */
  sslPort: number;
  /** Holds data/, tls/, server.properties, broker.log and broker.pid. */
  stateDir: string;
}

/**
 * The user of the SASL_SSL listener, the same for each mechanism: its SCRAM credentials are
 * created when the storage is formatted, its PLAIN password is in server.properties.
 */
export const BROKER_USER = { username: "consumerd", password: "consumerd-secret" } as const;

/** The SASL mechanisms of the SASL_SSL listener, as consumers.yaml spells them. */
export const BROKER_SASL_MECHANISMS = ["scram-sha-512", "scram-sha-256", "plain"] as const;

/**
 * What a formatted data directory holds beyond Kafka's own: written to `data.version` beside it.
 * A data directory of an older version (without it) is formatted anew.
 */
const DATA_VERSION = "2: SCRAM users";

/** The directory of the broker's CA and keystore (see scripts/broker_tls.ts). */
export function brokerTlsDir(options: BrokerOptions): string {
  return join(options.stateDir, "tls");
}

/** The broker's TLS files: `caPem` is what a client trusts (`kafka.ssl.ca`). */
export function brokerTls(options: BrokerOptions): BrokerTls {
  return brokerTlsFiles(brokerTlsDir(options));
}

/** Reads the broker options from the environment (`KAFKA_HOST`, `KAFKA_PORT`, …). */
export function brokerOptions(overrides: Partial<BrokerOptions> = {}): BrokerOptions {
  const port = overrides.port ?? Number(Deno.env.get("KAFKA_PORT") ?? 9092);
  if (!Number.isInteger(port) || port < 1 || port > 65530) {
    throw new RangeError(
      `Cannot start the broker as the port must be 1..65530: current value is ${port}`,
    );
  }
  return {
    host: overrides.host ?? Deno.env.get("KAFKA_HOST") ?? "127.0.0.1",
    port,
    controllerPort: overrides.controllerPort ??
      Number(Deno.env.get("KAFKA_CONTROLLER_PORT") ?? port + 1),
    proxiedPort: overrides.proxiedPort ?? Number(Deno.env.get("KAFKA_PROXIED_PORT") ?? port + 2),
    proxyPort: overrides.proxyPort ?? Number(Deno.env.get("KAFKA_PROXY_PORT") ?? port + 3),
    saslSslPort: overrides.saslSslPort ??
      Number(Deno.env.get("KAFKA_SASL_SSL_PORT") ?? port + 4),
    sslPort: overrides.sslPort ?? Number(Deno.env.get("KAFKA_SSL_PORT") ?? port + 5),
    stateDir: overrides.stateDir ?? Deno.env.get("KAFKA_STATE_DIR") ?? join(ROOT, ".kafka"),
  };
}

/** A failure the user can act on; the CLI prints its message and exits 1. */
export class BrokerError extends Error {
  override name = "BrokerError";
}

async function commandExists(name: string, args: string[]): Promise<boolean> {
  try {
    const out = await new Deno.Command(name, { args, stdout: "null", stderr: "null" }).output();
    return out.success;
  } catch {
    return false;
  }
}

async function requireJava(): Promise<void> {
  if (!await commandExists("java", ["-version"])) {
    throw new BrokerError(
      "Java 17 or newer is required to run the development broker, and `java` was not found on PATH.\n" +
        "Install it (Debian/Ubuntu: apt-get install openjdk-17-jre-headless; macOS: brew install openjdk@17) and try again.",
    );
  }
}

async function sha1(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-1", new TextEncoder().encode(text));
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("").slice(
    0,
    12,
  );
}

/**
 * The cache shared by every checkout on this machine: `CONSUMERD_CACHE`, else
 * `consumerd/` in `XDG_CACHE_HOME` or `~/.cache`.
 */
export function cacheDir(): string {
  return Deno.env.get("CONSUMERD_CACHE") ??
    join(
      Deno.env.get("XDG_CACHE_HOME") ?? join(Deno.env.get("HOME") ?? ROOT, ".cache"),
      "consumerd",
    );
}

/** Where the resolved jars are cached. */
async function libsDir(): Promise<string> {
  return join(cacheDir(), `kafka-${await sha1(await Deno.readTextFile(POM))}`, "libs");
}

/** Whether a file or directory exists at `path`. */
export async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * Resolves the broker's jars from Maven Central into the cache, once.
 * Returns the class path.
 */
export async function ensureJars(): Promise<string> {
  const libs = await libsDir();
  const done = join(libs, ".complete");
  if (await exists(done)) return join(libs, "*");
  if (!await commandExists("mvn", ["-v"])) {
    throw new BrokerError(
      "Maven is required once, to fetch the Kafka jars from Maven Central, and `mvn` was not found on PATH.\n" +
        "Install it (Debian/Ubuntu: apt-get install maven; macOS: brew install maven) and try again.",
    );
  }
  console.error(`Resolving Apache Kafka jars from Maven Central into ${libs} …`);
  const tmp = `${libs}.tmp-${Deno.pid}`;
  const out = await new Deno.Command("mvn", {
    args: [
      "-q",
      "-B",
      "-f",
      POM,
      "dependency:copy-dependencies",
      `-DoutputDirectory=${tmp}`,
      "-DincludeScope=runtime",
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!out.success) {
    const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
    throw new BrokerError(`Maven could not resolve the Kafka jars:\n${tail(text, 30)}`);
  }
  await Deno.remove(libs, { recursive: true }).catch(() => {});
  await Deno.rename(tmp, libs);
  await Deno.writeTextFile(done, new Date().toISOString());
  return join(libs, "*");
}

function tail(text: string, lines: number): string {
  return text.trimEnd().split("\n").slice(-lines).join("\n");
}

/** True if something accepts TCP connections on host:port. */
export async function portOpen(host: string, port: number): Promise<boolean> {
  try {
    const conn = await Deno.connect({ hostname: host, port });
    conn.close();
    return true;
  } catch {
    return false;
  }
}

function processCommandLine(pid: number): string | null {
  try {
    return Deno.readTextFileSync(`/proc/${pid}/cmdline`).replaceAll("\0", " ");
  } catch {
    return null;
  }
}

/** The pid of this checkout's broker if it is running, else null. */
export async function runningBrokerPid(options: BrokerOptions): Promise<number | null> {
  const pidFile = join(options.stateDir, "broker.pid");
  let pid: number;
  try {
    pid = Number((await Deno.readTextFile(pidFile)).trim());
  } catch {
    return null;
  }
  const cmdline = processCommandLine(pid);
  if (cmdline?.includes("kafka.Kafka") && cmdline.includes(options.stateDir)) return pid;
  await Deno.remove(pidFile).catch(() => {});
  return null;
}

function javaArgs(
  classPath: string,
  mainClass: string,
  extra: string[],
  { heap, log4j = TOOLS_LOG4J }: { heap: string[]; log4j?: string },
): string[] {
  return [
    ...heap,
    "-XX:+UseG1GC",
    "-Djava.awt.headless=true",
    `-Dlog4j2.configurationFile=${log4j}`,
    "-cp",
    classPath,
    mainClass,
    ...extra,
  ];
}

function randomClusterId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return btoa(String.fromCharCode(...bytes)).replaceAll("+", "-").replaceAll("/", "_").replace(
    /=+$/,
    "",
  );
}

/**
 * The broker's server.properties: the template with this broker's hosts, ports and files.
 *
 * @example
 * ```ts
 * serverProperties(await Deno.readTextFile(SERVER_TEMPLATE), brokerOptions());
 * ```
 */
export function serverProperties(template: string, options: BrokerOptions): string {
  const tls = brokerTls(options);
  const values: Record<string, string> = {
    host: options.host,
    port: String(options.port),
    controllerPort: String(options.controllerPort),
    proxiedPort: String(options.proxiedPort),
    proxyPort: String(options.proxyPort),
    saslSslPort: String(options.saslSslPort),
    sslPort: String(options.sslPort),
    dataDir: join(options.stateDir, "data"),
    keystore: tls.keystore,
    keystorePassword: tls.keystorePassword,
    username: BROKER_USER.username,
    password: BROKER_USER.password,
  };
  return template.replaceAll(/\{\{(\w+)\}\}/g, (whole, name: string) => {
    const value = values[name];
    if (value === undefined) throw new RangeError(`Unknown placeholder in the template: ${whole}`);
    return value;
  });
}

/** Outcome of {@linkcode brokerUp}. */
export interface BrokerUpResult {
  /** False when a broker of this checkout was already running. */
  started: boolean;
  pid: number;
  /** Milliseconds from launching the JVM to the port accepting connections. */
  startupMs: number;
  /**
   * A running broker that was started with another server.properties than this checkout's
   * template makes now (an older version of it): it lacks listeners until restarted.
   */
  stale: boolean;
}

/**
 * Starts the broker unless this checkout's broker already runs (idempotent).
 * Fails with a {@linkcode BrokerError} if the port belongs to someone else,
 * or with the broker's log tail if it does not come up.
 */
export async function brokerUp(options: BrokerOptions = brokerOptions()): Promise<BrokerUpResult> {
  const properties = join(options.stateDir, "server.properties");
  const wanted = serverProperties(await Deno.readTextFile(SERVER_TEMPLATE), options);
  const existing = await runningBrokerPid(options);
  if (existing !== null) {
    await waitForPort(options, existing, 60_000);
    const stale = await Deno.readTextFile(properties).catch(() => "") !== wanted;
    return { started: false, pid: existing, startupMs: 0, stale };
  }
  const ports = [
    options.port,
    options.controllerPort,
    options.proxiedPort,
    options.saslSslPort,
    options.sslPort,
  ];
  for (const port of ports) {
    if (await portOpen(options.host, port)) {
      throw new BrokerError(
        `Port ${port} on ${options.host} is already in use by another process, not this project's broker ` +
          `(no ${join(options.stateDir, "broker.pid")} for it).\n` +
          "Stop that process, or choose other ports with KAFKA_PORT (and KAFKA_CONTROLLER_PORT, " +
          "KAFKA_PROXIED_PORT, KAFKA_SASL_SSL_PORT, KAFKA_SSL_PORT).",
      );
    }
  }
  await requireJava();
  const dataDir = join(options.stateDir, "data");
  await Deno.mkdir(dataDir, { recursive: true });
  await Deno.writeTextFile(properties, wanted);
  // The certificates (keytool) and the jars and storage (java) at once: both are JVM starts.
  const [classPath] = await Promise.all([
    ensureJars().then(async (classPath) => {
      await ensureStorage(options, classPath, properties);
      return classPath;
    }),
    ensureBrokerTls(brokerTlsDir(options), { host: options.host }).catch((error: Error) => {
      throw new BrokerError(error.message);
    }),
  ]);
  const log = join(options.stateDir, "broker.log");
  const heap = (Deno.env.get("KAFKA_HEAP_OPTS") ?? "-Xms256m -Xmx1g").split(/\s+/).filter(Boolean);
  const started = performance.now();
  // setsid: the broker gets its own session, so a Ctrl-C meant for the caller
  // does not reach it; it stops only through brokerDown().
  const child = new Deno.Command("setsid", {
    args: [
      "sh",
      "-c",
      'exec "$@" >>"$0" 2>&1',
      log,
      "java",
      ...javaArgs(classPath, "kafka.Kafka", [properties], { heap, log4j: LOG4J }),
    ],
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
  child.unref();
  await Deno.writeTextFile(join(options.stateDir, "broker.pid"), String(child.pid));
  try {
    await waitForPort(options, child.pid, 90_000);
  } catch (error) {
    try {
      Deno.kill(child.pid, "SIGKILL");
    } catch { /* already gone */ }
    await Deno.remove(join(options.stateDir, "broker.pid")).catch(() => {});
    const logText = await Deno.readTextFile(log).catch(() => "(no log)");
    throw new BrokerError(
      `${(error as Error).message}\n--- broker log (tail) ---\n${tail(logText, 40)}`,
    );
  }
  return {
    started: true,
    pid: child.pid,
    startupMs: Math.round(performance.now() - started),
    stale: false,
  };
}

/**
 * Formats the data directory unless it is formatted by this version: a cluster id, and the SCRAM
 * credentials of {@linkcode BROKER_USER}. One formatted by an older version is deleted first.
 */
async function ensureStorage(
  options: BrokerOptions,
  classPath: string,
  properties: string,
): Promise<void> {
  const dataDir = join(options.stateDir, "data");
  const versionFile = join(options.stateDir, "data.version");
  const formatted = await exists(join(dataDir, "meta.properties"));
  const version = await Deno.readTextFile(versionFile).catch(() => null);
  if (formatted && version === DATA_VERSION) return;
  if (formatted) {
    console.error(
      `The broker's data in ${dataDir} was made by an older version of this script ` +
        "(it has no SCRAM users): deleting it (its topics and offsets) and formatting it anew.",
    );
    await Deno.remove(dataDir, { recursive: true });
    await Deno.mkdir(dataDir, { recursive: true });
  }
  const { username, password } = BROKER_USER;
  const scram = ["SCRAM-SHA-512", "SCRAM-SHA-256"].flatMap((mechanism) => [
    "--add-scram",
    `${mechanism}=[name=${username},password=${password}]`,
  ]);
  const format = await new Deno.Command("java", {
    args: javaArgs(classPath, KAFKA_TOOLS.storage!, [
      "format",
      "-t",
      randomClusterId(),
      "-c",
      properties,
      ...scram,
    ], { heap: ["-Xmx256m"] }),
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!format.success) {
    throw new BrokerError(
      `Formatting the broker's storage failed:\n${
        tail(new TextDecoder().decode(format.stderr), 30)
      }`,
    );
  }
  await Deno.writeTextFile(versionFile, DATA_VERSION);
}

/**
 * Starts the broker unless this checkout's broker already runs, and says
 * which on stderr. Returns true if it started it (so the caller stops it).
 */
export async function ensureBroker(options: BrokerOptions = brokerOptions()): Promise<boolean> {
  const up = await brokerUp(options);
  console.error(
    up.started
      ? `Kafka broker started on ${options.host}:${options.port} (pid ${up.pid}) in ${up.startupMs} ms`
      : `Using the Kafka broker already running on ${options.host}:${options.port} (pid ${up.pid})`,
  );
  if (up.stale) {
    console.error(
      "warning: that broker was started with an older config/kafka/server.properties and lacks " +
        "listeners the tests use; restart it once: deno task kafka down, then up",
    );
  }
  return up.started;
}

async function waitForPort(options: BrokerOptions, pid: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (processCommandLine(pid) === null) {
      throw new BrokerError(`The broker (pid ${pid}) exited during start-up.`);
    }
    if (await portOpen(options.host, options.port)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new BrokerError(
    `The broker (pid ${pid}) did not accept connections on ${options.host}:${options.port} within ${timeoutMs} ms.`,
  );
}

/**
 * Stops this checkout's broker: SIGTERM, then SIGKILL after `timeoutMs`.
 * Returns false when none was running (not an error).
 */
export async function brokerDown(
  options: BrokerOptions = brokerOptions(),
  { timeoutMs = 30_000 }: { timeoutMs?: number } = {},
): Promise<boolean> {
  const pid = await runningBrokerPid(options);
  if (pid === null) return false;
  Deno.kill(pid, "SIGTERM");
  const deadline = Date.now() + timeoutMs;
  while (processCommandLine(pid) !== null && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 100));
  }
  if (processCommandLine(pid) !== null) {
    Deno.kill(pid, "SIGKILL");
    while (processCommandLine(pid) !== null) await new Promise((r) => setTimeout(r, 50));
  }
  await Deno.remove(join(options.stateDir, "broker.pid")).catch(() => {});
  return true;
}

/** Output of one run of a Kafka command-line tool. */
export interface ToolResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs one of {@linkcode KAFKA_TOOLS} from the broker's jars.
 *
 * @example
 * ```ts
 * await kafkaTool("topics", ["--bootstrap-server", "127.0.0.1:9092", "--list"]);
 * ```
 */
export async function kafkaTool(
  name: string,
  args: string[],
  { stdin, inherit = false }: { stdin?: string; inherit?: boolean } = {},
): Promise<ToolResult> {
  const mainClass = KAFKA_TOOLS[name];
  if (mainClass === undefined) {
    throw new BrokerError(
      `Unknown Kafka tool "${name}": expected one of ${Object.keys(KAFKA_TOOLS).join(", ")}`,
    );
  }
  await requireJava();
  const classPath = await ensureJars();
  const child = new Deno.Command("java", {
    args: javaArgs(classPath, mainClass, args, { heap: ["-Xmx512m", "-XX:TieredStopAtLevel=1"] }),
    stdin: stdin === undefined ? (inherit ? "inherit" : "null") : "piped",
    stdout: inherit ? "inherit" : "piped",
    stderr: inherit ? "inherit" : "piped",
  }).spawn();
  if (stdin !== undefined) {
    const writer = child.stdin.getWriter();
    await writer.write(new TextEncoder().encode(stdin));
    await writer.close();
  }
  if (inherit) {
    const status = await child.status;
    return { code: status.code, stdout: "", stderr: "" };
  }
  const out = await child.output();
  return {
    code: out.code,
    stdout: new TextDecoder().decode(out.stdout),
    stderr: new TextDecoder().decode(out.stderr),
  };
}

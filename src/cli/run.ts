/**
 * `run`: the daemon. Loads the config, starts the supervisor, reloads the
 * config on SIGHUP (and on file changes, which the supervisor watches),
 * drains on SIGTERM/SIGINT within the grace period (a second signal forces
 * exit).
 *
 * @module
 */
import process from "node:process";
import { fileURLToPath } from "node:url";
import { ConfigError, loadConfigFile } from "../config/load.ts";
import type { Config } from "../config/types.ts";
import { createLogger, errorFields, type Logger } from "../log.ts";
import type { Runtime } from "../runtime/types.ts";
import { SOURCE_WORKER_ENTRY, Supervisor } from "../supervisor/supervisor.ts";
import { chooseWorkerEntry, type WorkerEntryChoice } from "../supervisor/worker_bundle.ts";
import { isEmbedded } from "../runtime/compiled.ts";
import { HttpConfigError, listenProblem, startStatusServer } from "../http/server.ts";
import type { HttpServer } from "../runtime/types.ts";
import type { HostPort } from "../config/host_port.ts";

/** The directory holding src/, node_modules/ and dist/. */
const PACKAGE_DIR = fileURLToPath(new URL("../../", import.meta.url));

/** Signals this close to the first are the same request, delivered twice. */
const SAME_SIGNAL_MS = 1000;

/** Options for {@linkcode runDaemon}. */
export interface RunOptions {
  configPath: string;
  runtime: Runtime;
  logFormat: "json" | "pretty";
  /** How often to log a summary of every consumer's offsets, ms. */
  summaryIntervalMs?: number;
}

/**
 * The module workers run: the bundle from `deno task build` when it matches
 * the files on disk, else the TypeScript entry (always inside a compiled
 * executable, which embeds its own; and with CONSUMERD_WORKER_ENTRY=source).
 */
function workerEntry(): WorkerEntryChoice {
  if (isEmbedded(import.meta.url)) {
    return { kind: "source", url: SOURCE_WORKER_ENTRY, reason: "embedded in the executable" };
  }
  if (process.env.CONSUMERD_WORKER_ENTRY === "source") {
    return { kind: "source", url: SOURCE_WORKER_ENTRY, reason: "CONSUMERD_WORKER_ENTRY=source" };
  }
  return chooseWorkerEntry(PACKAGE_DIR, SOURCE_WORKER_ENTRY);
}

/** Runs the daemon until a signal stops it; resolves to the exit code. */
export async function runDaemon(options: RunOptions): Promise<number> {
  const { runtime, logFormat, summaryIntervalMs = 10_000 } = options;
  const log = createLogger({ format: logFormat });
  let config: Config;
  try {
    // Handler modules are imported only inside their sandboxed workers, never here.
    config = await loadConfigFile(options.configPath, { checkHandlers: false });
  } catch (error) {
    if (error instanceof ConfigError) {
      for (const issue of error.issues) {
        log.error("invalid config", { ...issue });
      }
      return 1;
    }
    throw error;
  }
  if (config.http !== false) {
    const refused = listenProblem(config.http, config.httpToken ?? null);
    if (refused !== null) {
      log.error(`refusing to start: ${refused}`, { config: config.path });
      return 1;
    }
  }
  const entry = workerEntry();
  log.info("starting", {
    config: config.path,
    runtime: runtime.name,
    consumers: config.consumers.map((c) => c.name),
    brokers: config.kafka.brokers,
    workers: entry.kind,
    ...(entry.kind === "source" ? { workersFrom: entry.reason } : {}),
  });
  let server: HttpServer | null = null;
  const serve = (listen: HostPort, token: string | null, allowedHosts: readonly string[] = []) =>
    startStatusServer({
      listen,
      token,
      allowedHosts,
      source: {
        reports: () => supervisor.report(),
        alive: () => supervisor.alive(),
        config: () => supervisor.config(),
      },
      runtime,
      logger: log,
      reload: () => supervisor.reload("http"),
    });
  // A reload that changes `http:` moves the status server (a refused or failed
  // address keeps it where it is, and says why). The move waits until the
  // reload's own answer went out (a POST /reload is served by this server),
  // and binding is tried again for a moment while the old listener lets go.
  const moveServer = async (listen: HostPort | false, next: Config) => {
    const token = next.httpToken ?? null;
    if (listen !== false) {
      const refused = listenProblem(listen, token);
      if (refused !== null) {
        log.error(`status server not moved: ${refused}`);
        return;
      }
    }
    await closeServer(server);
    server = null;
    if (listen === false) return log.info("status server stopped (http.listen: false)");
    for (let attempt = 1;; attempt++) {
      try {
        server = serve(listen, token, next.httpAllowedHosts);
        return;
      } catch (error) {
        if (attempt < BIND_ATTEMPTS) {
          await new Promise((r) => setTimeout(r, BIND_RETRY_MS));
          continue;
        }
        log.error("status server not restarted; it is down until the next reload or restart", {
          ...errorFields(error),
        });
        return;
      }
    }
  };
  const onHttpChange = (listen: HostPort | false, next: Config) => {
    setTimeout(() => void moveServer(listen, next), MOVE_DELAY_MS);
  };
  const supervisor = new Supervisor(config, {
    runtime,
    logger: log,
    logFormat,
    onHttpChange,
    workerEntry: entry.url,
  });
  if (config.http !== false) {
    try {
      server = serve(config.http, config.httpToken ?? null, config.httpAllowedHosts);
    } catch (error) {
      if (!(error instanceof HttpConfigError)) throw error;
      log.error(`refusing to start: ${error.message}`, { config: config.path });
      return 1;
    }
  }
  // Workers start once the status server listens: a daemon that cannot serve its probes starts nothing.
  supervisor.start();
  const stopReloading = runtime.onSignal("SIGHUP", () => {
    supervisor.reload("SIGHUP").catch((error) =>
      log.error("config reload failed", { trigger: "SIGHUP", ...errorFields(error) })
    );
  });
  const summary = setInterval(() => logSummary(log, supervisor), summaryIntervalMs);

  const code = await new Promise<number>((resolve) => {
    let signals = 0;
    let firstSignalAt = 0;
    const onSignal = (name: string) => () => {
      const now = performance.now();
      // One Ctrl-C often arrives twice: the terminal signals the whole process
      // group, and a wrapper (npm, deno task) forwards it as well.
      if (signals > 0 && now - firstSignalAt < SAME_SIGNAL_MS) return;
      if (signals++ === 0) firstSignalAt = now;
      if (signals > 1) {
        log.warn("second signal: exiting now", { signal: name });
        supervisor.terminateAll();
        resolve(130);
        return;
      }
      log.info("shutting down", { signal: name, gracePeriodMs: config.shutdown.gracePeriodMs });
      supervisor.stop(config.shutdown.gracePeriodMs).then((clean) => {
        logSummary(log, supervisor);
        if (!clean) {
          log.error(
            "not every worker drained: those that failed or ran past the grace period were terminated",
          );
        }
        resolve(clean ? 0 : 1);
      }, (error) => {
        log.error("shutdown failed", errorFields(error));
        resolve(1);
      });
    };
    runtime.onSignal("SIGINT", onSignal("SIGINT"));
    runtime.onSignal("SIGTERM", onSignal("SIGTERM"));
  });
  clearInterval(summary);
  stopReloading();
  await closeServer(server);
  log.info("stopped", { exitCode: code });
  return code;
}

/** How long a status server move waits for the reload's own answer to go out. */
const MOVE_DELAY_MS = 50;
/** Binding the moved status server: attempts, and the wait between them. */
const BIND_ATTEMPTS = 10;
const BIND_RETRY_MS = 200;

/** Closes the status server; a client that never finishes its request must not hold this up. */
async function closeServer(server: HttpServer | null): Promise<void> {
  if (server === null) return;
  await Promise.race([
    server.close().catch(() => {}),
    new Promise((r) => setTimeout(r, 1000)),
  ]);
}

function logSummary(log: Logger, supervisor: Supervisor): void {
  for (const c of supervisor.status()) {
    log.info("consumer", {
      consumer: c.name,
      state: c.state,
      restarts: c.restarts,
      partitions: c.partitions.map((p) =>
        `${p.partition}:${p.committed ?? "-"}/${p.highWatermark ?? "-"}`
      ).join(" "),
    });
  }
}

/**
 * `run`: the daemon. Loads the config, starts the supervisor, reloads the
 * config on SIGHUP (and on file changes, which the supervisor watches),
 * drains on SIGTERM/SIGINT within the grace period (a second signal forces
 * exit).
 *
 * @module
 */
import { ConfigError, loadConfigFile } from "../config/load.ts";
import type { Config } from "../config/types.ts";
import { createLogger, errorFields, type Logger } from "../log.ts";
import type { Runtime } from "../runtime/types.ts";
import { Supervisor } from "../supervisor/supervisor.ts";

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
  log.info("starting", {
    config: config.path,
    runtime: runtime.name,
    consumers: config.consumers.map((c) => c.name),
    brokers: config.kafka.brokers,
  });
  const supervisor = new Supervisor(config, { runtime, logger: log, logFormat });
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
          log.error("workers did not drain within the grace period; they were terminated");
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
  log.info("stopped", { exitCode: code });
  return code;
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

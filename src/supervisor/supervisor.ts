/**
 * The supervisor: one worker per consumer replica, a periodic control pass
 * that restarts dead or hung workers with backoff, and a graceful drain.
 * The slots and their workers' lives are in `slots.ts`, applying a reload's
 * difference in `apply_config.ts`, reports in `report.ts`.
 *
 * @module
 */
import type { Config, HttpConfig } from "../config/types.ts";
import { errorFields, type Logger } from "../log.ts";
import type { Runtime } from "../runtime/types.ts";
import { applyDiff } from "./apply_config.ts";
import type { ConfigDiff } from "./config_diff.ts";
import { controlPass, type ControlPolicy, type Stall, stallOf } from "./control_pass.ts";
import { Evictions } from "./evictions.ts";
import { type ConfigState, Reloader, type ReloadResult, type ReloadTrigger } from "./reload.ts";
import { type ConsumerReport, consumerReport } from "./report.ts";
import { Slots, slotView } from "./slots.ts";
import type { ConsumerStatus } from "./status.ts";

export type { ConfigState, ConsumerStatus, ReloadResult, ReloadTrigger };

/** The worker entry in TypeScript, used when no fresh bundle is given. */
export const SOURCE_WORKER_ENTRY: URL = new URL("../worker/entry.ts", import.meta.url);

/** Options for {@linkcode Supervisor}. */
export interface SupervisorOptions {
  runtime: Runtime;
  logger: Logger;
  logFormat?: "json" | "pretty";
  heartbeatIntervalMs?: number;
  policy?: Partial<ControlPolicy>;
  controlIntervalMs?: number;
  /** Restart backoff: first delay and cap, ms. */
  restartBackoff?: { baseMs: number; maxMs: number };
  /** How long a consumer's start may wait for all its replicas' first assignments, ms. */
  settleTimeoutMs?: number;
  /**
   * How long a start waits for a partition a replica gave up to reach
   * another replica before it settles without it, ms: twice the consumer
   * protocol's default heartbeat interval (5 s), the step such a move takes.
   */
  moveWaitMs?: number;
  /** Restarts within `failingWindowMs` that mark a consumer as failing. */
  failingAfter?: number;
  failingWindowMs?: number;
  /**
   * Called after a reload whose `http:` section changed, with the new
   * address: the status server rebinds there.
   */
  onHttpChange?: (listen: HttpConfig, next: Config) => void | Promise<void>;
  /** Watch the config file and handler modules and reload on change (default true). */
  watch?: boolean;
  /** The module each worker runs (default: the TypeScript entry; `chooseWorkerEntry()` picks a fresh bundle). */
  workerEntry?: URL;
}

/**
 * How many workers load at once: loading is CPU-bound (each worker compiles
 * its client library), and a worker that has loaded goes on to connect and
 * join while the next ones load. Four per core kept 50 starting workers
 * from starving each other and the supervisor's own event loop.
 */
function maxLoading(): number {
  const cores = typeof navigator === "undefined" ? 1 : navigator.hardwareConcurrency ?? 1;
  return Math.max(4, 4 * cores);
}

/**
 * How many stalls ({@linkcode stallOf}) the control pass remembers.
 * Forgetting one only makes the checks stricter again; a loop that stalls
 * this often is itself the fault.
 */
const MAX_STALLS = 100;

/** Runs and watches the workers of a config. */
export class Supervisor {
  #config: Config;
  #options:
    & Required<Omit<SupervisorOptions, "policy" | "onHttpChange">>
    & Pick<SupervisorOptions, "onHttpChange">
    & { policy: ControlPolicy };
  #slots: Slots;
  #evictions: Evictions;
  #timer: ReturnType<typeof setInterval> | null = null;
  /** A control pass asked for by an event (a worker loaded, a slot queued). */
  #passSoon: ReturnType<typeof setTimeout> | null = null;
  #stopping = false;
  #lastControlPass = performance.now();
  /** The latest times this loop stood still ({@linkcode ControlPolicy.stalls}), oldest first. */
  #stalls: Stall[] = [];
  #reloader: Reloader;

  constructor(config: Config, options: SupervisorOptions) {
    this.#config = config;
    this.#options = {
      logFormat: "json",
      heartbeatIntervalMs: 1000,
      controlIntervalMs: 500,
      restartBackoff: { baseMs: 500, maxMs: 30_000 },
      failingAfter: 5,
      settleTimeoutMs: 60_000,
      moveWaitMs: 10_000,
      failingWindowMs: 5 * 60_000,
      watch: true,
      workerEntry: SOURCE_WORKER_ENTRY,
      ...options,
      policy: { heartbeatTimeoutMs: 10_000, maxLoading: maxLoading(), ...options.policy },
    };
    this.#reloader = new Reloader(config, {
      runtime: options.runtime,
      logger: options.logger,
      current: () => this.#config,
      apply: (next, diff) => this.#applyConfig(next, diff),
    });
    this.#evictions = new Evictions({ logger: options.logger, stopping: () => this.#stopping });
    const { runtime, logger, logFormat, heartbeatIntervalMs, workerEntry, restartBackoff } =
      this.#options;
    this.#slots = new Slots({
      runtime,
      logger,
      logFormat,
      heartbeatIntervalMs,
      heartbeatTimeoutMs: this.#options.policy.heartbeatTimeoutMs,
      workerEntry,
      restartBackoff,
      config: () => this.#config,
      uncheckedHandler: (handler) => this.#reloader.uncheckedHandler(handler),
      evictions: this.#evictions,
      soon: () => this.#soon(),
    });
  }

  /** Starts every consumer's workers and the control pass. */
  start(): void {
    const { logger, runtime } = this.#options;
    if (!runtime.sandbox) {
      logger.warn(
        "workers are NOT sandboxed on this runtime: handlers run with the daemon's permissions",
        {
          runtime: runtime.name,
        },
      );
    }
    for (const consumer of this.#config.consumers) this.#slots.startConsumer(consumer);
    this.#lastControlPass = performance.now();
    this.#timer = setInterval(() => this.#controlPass(), this.#options.controlIntervalMs);
    this.#reloader.init().then(() => {
      if (this.#options.watch && !this.#stopping) this.#reloader.watch();
    }).catch((error) =>
      this.#options.logger.error(
        "cannot watch the config file; reload with SIGHUP instead",
        errorFields(error),
      )
    );
  }

  /**
   * Reloads the config file: validates all of it (handlers included), then
   * applies only the difference. Reloads run one at a time, in order.
   *
   * @example
   * ```ts
   * const result = await supervisor.reload("SIGHUP");
   * if (!result.ok) for (const e of result.errors) console.error(e.line, e.message);
   * ```
   */
  reload(trigger: ReloadTrigger): Promise<ReloadResult> {
    return this.#reloader.reload(trigger);
  }

  /** The config's path, revision and last reload (for status). */
  config(): ConfigState {
    return this.#reloader.state();
  }

  /**
   * Applies a reload's difference (see `apply_config.ts`); unchanged
   * consumers keep their definition objects. A new `http:` section or token
   * rebinds the status server.
   */
  async #applyConfig(next: Config, diff: ConfigDiff): Promise<void> {
    if (this.#stopping) throw new Error("the daemon is shutting down");
    const running = new Map(this.#config.consumers.map((c) => [c.name, c]));
    const unchanged = new Set(diff.unchanged);
    const previousToken = this.#config.httpToken ?? null;
    this.#config = {
      ...next,
      consumers: next.consumers.map((c) => unchanged.has(c.name) ? running.get(c.name)! : c),
    };
    const deadline = Date.now() + next.shutdown.gracePeriodMs;
    const consumer = (name: string) => this.#config.consumers.find((c) => c.name === name)!;
    await applyDiff(diff, consumer, deadline, {
      slots: this.#slots,
      logger: this.#options.logger,
      kafka: () => this.#config.kafka,
      stopping: () => this.#stopping,
    });
    // A new http.token also restarts the status server (its fingerprint leaves the secret out).
    if (diff.httpChanged || (next.httpToken ?? null) !== previousToken) {
      await this.#options.onHttpChange?.(next.http, next);
    }
  }

  /** Runs a control pass on the next turn of the event loop (once, however often asked). */
  #soon(): void {
    if (this.#passSoon !== null) return;
    this.#passSoon = setTimeout(() => {
      this.#passSoon = null;
      this.#controlPass();
    }, 0);
  }

  #controlPass(): void {
    if (this.#stopping) return;
    const now = performance.now();
    const stall = stallOf(this.#lastControlPass, now, {
      intervalMs: this.#options.controlIntervalMs,
    });
    if (stall !== null) {
      // Workers' messages of that time are still queued: it does not count against them.
      this.#stalls.push(stall);
      if (this.#stalls.length > MAX_STALLS) this.#stalls.shift();
      this.#options.logger.warn(
        "the supervisor's event loop stood still; workers get that time back",
        {
          ms: Math.round(now - this.#lastControlPass),
          givenBackMs: Math.round(stall[1] - stall[0]),
        },
      );
    }
    this.#lastControlPass = now;
    const slots = this.#slots.all();
    // Restarts older than the window are forgotten: after a period of health
    // the backoff starts small again and a consumer stops being "failing".
    for (const slot of slots) {
      slot.recentRestarts = slot.recentRestarts.filter((t) =>
        now - t < this.#options.failingWindowMs
      );
    }
    const queued = new Set(slots.filter((s) => s.queued).map((s) => s.consumer.name));
    for (const run of this.#slots.runs()) {
      if (queued.has(run.consumer.name)) continue; // its window opens once every replica has a worker
      if (run.settler.settled && !run.settler.moving) continue;
      const log = this.#options.logger.child({ consumer: run.consumer.name });
      if (!run.settler.settled && now - run.startedAt > this.#options.settleTimeoutMs) {
        this.#options.logger.warn(
          "not every replica got an assignment in time; settling the start without them",
          {
            consumer: run.consumer.name,
            settleTimeoutMs: this.#options.settleTimeoutMs,
          },
        );
        run.forceSettle(log);
      } else if (run.settler.moving) {
        run.expireMoves(this.#options.moveWaitMs, log);
      }
    }
    const policy = { ...this.#options.policy, stalls: this.#stalls };
    for (const action of controlPass(slots.map(slotView), now, policy)) {
      const slot = this.#slots.get(action.id)!;
      if (action.kind === "start") this.#slots.spawn(slot, !slot.queued);
      else this.#slots.restart(slot, action.reason, now);
    }
  }

  /**
   * Drains every worker: stop fetching, finish in-flight handlers, commit,
   * leave the group. Resolves true if all drained within `gracePeriodMs`.
   */
  async stop(gracePeriodMs: number): Promise<boolean> {
    this.#stopping = true;
    this.#reloader.close();
    if (this.#timer !== null) clearInterval(this.#timer);
    if (this.#passSoon !== null) clearTimeout(this.#passSoon);
    const deadline = Date.now() + gracePeriodMs;
    const clean = await this.#slots.drainAll(deadline);
    // Members that could not leave by themselves are removed before the daemon exits.
    await this.#evictions.settle(deadline);
    return clean;
  }

  /** Ends every worker at once (a second signal). */
  terminateAll(): void {
    this.#slots.terminateAll();
  }

  /** The status of every consumer, aggregated over its replicas. */
  status(): ConsumerStatus[] {
    return this.report();
  }

  /** Each consumer's status with its cumulative counters and replicas (for metrics). */
  report(): ConsumerReport[] {
    return this.#config.consumers.map((consumer) =>
      consumerReport(consumer, this.#slots.of(consumer.name), this.#slots.run(consumer.name), {
        failingAfter: this.#options.failingAfter,
        stopping: this.#stopping,
        fingerprint: this.#reloader.fingerprint(consumer.name),
        kafka: this.#config.kafka,
      })
    );
  }

  /** Whether the control pass ran lately (the supervisor's loop is alive). */
  alive(now = performance.now()): boolean {
    if (this.#timer === null) return false;
    if (this.#stopping) return true;
    return now - this.#lastControlPass < Math.max(5_000, this.#options.controlIntervalMs * 10);
  }
}

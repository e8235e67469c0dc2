/**
 * Hot reload: re-reads the config file when it changes on disk (the file,
 * a ConfigMap symlink swap in its directory, or a watched handler module),
 * on SIGHUP, or when asked through {@linkcode Reloader.reload}. The whole new
 * file is validated first, handlers included, as `check` does; an invalid
 * file changes nothing. A valid one is compared with the running config and
 * only the difference is applied.
 *
 * @module
 */
import { readFile } from "node:fs/promises";
import { dirname } from "node:path";
import { ConfigError, type ConfigIssue } from "../config/error.ts";
import { type HandlerCheck, loadConfigFile } from "../config/load.ts";
import { analyzeConfig } from "../config/parse.ts";
import type { Config } from "../config/types.ts";
import { errorFields, type Logger } from "../log.ts";
import type { Runtime } from "../runtime/types.ts";
import { changesAnything, type ConfigDiff, diffConfigs } from "./config_diff.ts";
import { Debouncer } from "./debounce.ts";
import { configSnapshot, fingerprintValue } from "./fingerprint.ts";
import { workerProbe } from "./handler_probe.ts";
import {
  MAX_GRAPH_MODULES,
  type ModuleGraph,
  moduleGraph,
  moduleGraphSync,
} from "./module_graph.ts";
import {
  describeOutcome,
  diffOutcome,
  emptyOutcome,
  type ReloadResult,
  type ReloadTrigger,
} from "./reload_result.ts";
import type { DefinitionFingerprint } from "./status.ts";

export type { ReloadResult, ReloadTrigger };

/** The last reload, as status shows it. */
export interface LastReload {
  ok: boolean;
  at: string;
  trigger: ReloadTrigger;
  errors: ConfigIssue[];
}

/** The config as status shows it. */
export interface ConfigState {
  path: string;
  /** 1 for the config the daemon started with; +1 per reload that changed something. */
  revision: number;
  /** Null until the first reload. */
  lastReload: LastReload | null;
  /** Fingerprints of `kafka:` (secrets left out) and `http:`, for `check --diff`. */
  fingerprints: { kafka: string; http: string };
}

/** Options for {@linkcode Reloader}. */
export interface ReloaderOptions {
  runtime: Runtime;
  logger: Logger;
  /** The config running now. */
  current: () => Config;
  /** Applies a valid new config's difference (the supervisor's operations). */
  apply: (next: Config, diff: ConfigDiff) => Promise<void>;
  /**
   * Checks one consumer's handler module; default: {@linkcode workerProbe},
   * in a throwaway worker with that consumer's worker permissions (it reads
   * an edited module anew).
   */
  probeHandler?: (check: HandlerCheck) => Promise<string | undefined>;
}

const NO_HANDLERS: ReadonlyMap<string, string> = new Map();
/** How often a reload checks its handlers again while one keeps changing during the check. */
const CHECK_ATTEMPTS = 3;

/** The local module graph of each handler at `paths`, read now. */
async function handlerGraphs(paths: Iterable<string>): Promise<Map<string, ModuleGraph>> {
  const unique = [...new Set(paths)];
  const graphs = await Promise.all(unique.map((path) => moduleGraph(path)));
  return new Map(unique.map((path, i) => [path, graphs[i]!]));
}

/** Each handler's fingerprint (its module graph's). */
function fingerprintsOf(graphs: ReadonlyMap<string, ModuleGraph>): Map<string, string> {
  return new Map([...graphs].map(([path, graph]) => [path, graph.fingerprint]));
}

/** The first module of a graph whose bytes differ from the checked graph's (or that is new). */
function editedModule(
  checked: ReadonlyMap<string, string>,
  now: ReadonlyMap<string, string>,
): string | null {
  for (const [path, print] of now) if (checked.get(path) !== print) return path;
  for (const path of checked.keys()) if (!now.has(path)) return path;
  return null;
}

/** Settings outside `consumers:` whose change is applied without touching consumers. */
function settings(config: Config): unknown {
  // `lines` only says where things are written: moving them changes nothing.
  const { consumers: _, path: __, lines: ___, ...rest } = config;
  return rest;
}

/** Validates, compares and applies new configs, one reload at a time. */
export class Reloader {
  readonly #options: ReloaderOptions;
  readonly #path: string;
  /** The handlers (their local module graphs) the running workers loaded, as checked. */
  #handlers: ReadonlyMap<string, ModuleGraph> = new Map();
  /** The modules of each handler's graph as last read, for the watch. */
  #graphFiles = new Map<string, string[]>();
  /** Handlers whose graph was too big to follow whole, warned about once. */
  #truncated = new Set<string>();
  #watching = false;
  #revision = 1;
  #last: LastReload | null = null;
  #queue: Promise<unknown> = Promise.resolve();
  /** What the file and its handlers held at the last reload (file changes re-check this). */
  #diskKey: string | null = null;
  #unwatch: (() => void) | null = null;
  #watched = "";
  #debouncer: Debouncer | null = null;
  #closed = false;

  constructor(config: Config, options: ReloaderOptions) {
    this.#options = options;
    this.#path = config.path;
  }

  /** Records the handler modules and file the daemon started with. */
  init(): Promise<void> {
    return this.#enqueue(async () => {
      const config = this.#options.current();
      this.#handlers = await handlerGraphs(config.consumers.map((c) => c.handler));
      this.#noteGraphs(this.#handlers);
      this.#diskKey = (await this.#readDisk()).key;
    });
  }

  /**
   * Starts watching the config file's directory and (unless disabled) the
   * directories of the handlers and of the local modules they import.
   */
  watch(): void {
    if (this.#closed) return;
    this.#watching = true;
    const config = this.#options.current();
    const dirs = new Set([dirname(config.path)]);
    if (config.reload.handlers) {
      for (const c of config.consumers) {
        for (const file of this.#graphFiles.get(c.handler) ?? [c.handler]) dirs.add(dirname(file));
      }
    }
    const key = JSON.stringify([[...dirs].sort(), config.reload.debounceMs]);
    if (key === this.#watched) return;
    this.#unwatch?.();
    this.#debouncer?.cancel();
    const debouncer = new Debouncer(() => void this.#onDiskChange(), {
      quietMs: config.reload.debounceMs,
    });
    this.#debouncer = debouncer;
    const { logger } = this.#options;
    this.#unwatch = this.#options.runtime.watchDirectories([...dirs], () => debouncer.poke(), {
      onLost: (dir, reason) =>
        logger.warn("config watch lost; watching again once the directory exists", {
          dir,
          reason,
        }),
      // Changes made meanwhile are looked at: the listener is poked too.
      onRearmed: (dir) => logger.info("config watch re-armed", { dir }),
    });
    // Watching other directories now (a new config, a handler importing from elsewhere): what
    // changed while the watch was swapped, or was pending in the old debouncer, is looked at.
    if (this.#watched !== "") debouncer.poke();
    this.#watched = key;
  }

  /** Stops watching; later reloads are refused. */
  close(): void {
    this.#closed = true;
    this.#unwatch?.();
    this.#debouncer?.cancel();
  }

  /** The config's path, revision and last reload. */
  state(): ConfigState {
    const config = this.#options.current();
    const snapshot = configSnapshot(config, NO_HANDLERS, { redact: true });
    return {
      path: this.#path,
      revision: this.#revision,
      lastReload: this.#last === null
        ? null
        : { ...this.#last, errors: this.#last.errors.map((e) => ({ ...e })) },
      fingerprints: { kafka: snapshot.kafka, http: snapshot.http },
    };
  }

  /** The running definition of a consumer, fingerprinted for `check --diff`. */
  fingerprint(name: string): DefinitionFingerprint | null {
    const config = this.#options.current();
    // Shown in /status: settings values from the environment are left out (check --diff does too).
    const handlers = config.reload.handlers ? fingerprintsOf(this.#handlers) : NO_HANDLERS;
    const snapshot = configSnapshot(config, handlers, { redact: true });
    const found = snapshot.consumers.find((c) => c.name === name);
    return found === undefined
      ? null
      : { definition: found.definition, handler: found.handler, replicas: found.replicas };
  }

  /** Reloads now (SIGHUP, POST /reload); waits for reloads already under way. */
  reload(trigger: ReloadTrigger): Promise<ReloadResult> {
    return this.#enqueue(() => this.#reload(trigger));
  }

  #enqueue<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(fn, fn);
    this.#queue = run.catch(() => {});
    return run;
  }

  /** A change on disk: reload if the file or a handler holds something new. */
  #onDiskChange(): Promise<void> {
    return this.#enqueue(async () => {
      if (this.#closed) return;
      const { key } = await this.#readDisk();
      if (key === this.#diskKey) return;
      await this.#reload("file");
    }).catch((error) =>
      this.#options.logger.error("config reload failed", { trigger: "file", ...errorFields(error) })
    );
  }

  /**
   * The file's text and the fingerprints of the handlers it names, as one
   * key. (While the YAML is broken it names none: a handler edit then waits
   * for the file to be fixed, whose reload sees it.)
   */
  async #readDisk(): Promise<{ key: string; prints: ReadonlyMap<string, string> }> {
    const text = await readFile(this.#path, "utf8").catch((e) => `\0unreadable ${e}`);
    const { handlers } = analyzeConfig(text, { file: this.#path });
    const graphs = await handlerGraphs(handlers.map((h) => h.path));
    this.#noteGraphs(graphs);
    const prints = fingerprintsOf(graphs);
    const watched = this.#options.current().reload.handlers ? prints : NO_HANDLERS;
    return { key: fingerprintValue([text, [...watched]]), prints };
  }

  /** Keeps the modules of each graph for the watch (watching new directories), warns of big ones. */
  #noteGraphs(graphs: ReadonlyMap<string, ModuleGraph>): void {
    for (const [handler, graph] of graphs) {
      this.#graphFiles.set(handler, [...graph.modules.keys()]);
      if (!graph.truncated || this.#truncated.has(handler)) continue;
      this.#truncated.add(handler);
      this.#options.logger.warn(
        `handler imports more than ${MAX_GRAPH_MODULES} local modules; the rest are not followed`,
        { handler },
      );
    }
    if (this.#watching) this.watch();
  }

  /**
   * Loads and checks the file, with the fingerprints of the handler bytes
   * the check saw: read before and after it, and checked again (up to
   * {@linkcode CHECK_ATTEMPTS} times) while a handler changes meanwhile, so
   * that a worker is only ever started with a version that was checked.
   */
  async #loadChecked(): Promise<
    { next: Config; checked: ReadonlyMap<string, ModuleGraph> } | ConfigIssue[]
  > {
    for (let attempt = 1;; attempt++) {
      // A probe per attempt: one caches its answers, and an attempt must import what is on disk now.
      const probeHandler = this.#options.probeHandler ?? workerProbe(this.#options.runtime);
      const disk = await this.#readDisk();
      this.#diskKey = disk.key;
      let next: Config;
      try {
        next = await loadConfigFile(this.#path, { probeHandler });
      } catch (error) {
        if (!(error instanceof ConfigError)) throw error;
        return error.issues;
      }
      const checked = await handlerGraphs(next.consumers.map((c) => c.handler));
      const moved = next.consumers.filter((c) =>
        disk.prints.get(c.handler) !== checked.get(c.handler)?.fingerprint
      );
      if (moved.length === 0) return { next, checked };
      if (attempt === CHECK_ATTEMPTS) {
        return moved.map((c) => ({
          file: this.#path,
          line: next.lines?.[c.name]?.handler ?? 1,
          column: 1,
          path: "",
          message: `handler module ${c.handler} changed while it was checked, ${attempt} times; ` +
            "the reload after its next save checks it again",
        }));
      }
    }
  }

  /**
   * Why a worker with the handler at `path` must not start now: the file, or
   * a local module it imports, no longer holds the version the running
   * config was checked with (it was edited after the reload checked it, e.g.
   * while the old workers drained). Null when it does, or when handler versions are not followed
   * (`reload.handlers: false`, or before {@linkcode Reloader.init}).
   *
   * @example
   * ```ts
   * reloader.uncheckedHandler("/srv/workers/audit.ts"); // null: the checked version is on disk
   * ```
   */
  uncheckedHandler(path: string): string | null {
    if (!this.#options.current().reload.handlers) return null;
    const checked = this.#handlers.get(path);
    if (checked === undefined) return null;
    const now = moduleGraphSync(path);
    if (now.fingerprint === checked.fingerprint) return null;
    const edited = editedModule(checked.modules, now.modules);
    const where = edited === null || edited === path ? "" : ` (${edited}, a module it imports)`;
    return `handler ${path} was edited after it was checked${where}: its workers start once a ` +
      "reload checks the new version (or the checked version is back)";
  }

  async #reload(trigger: ReloadTrigger): Promise<ReloadResult> {
    const { logger } = this.#options;
    const current = this.#options.current();
    const finish = (result: ReloadResult): ReloadResult => {
      this.#last = { ok: result.ok, at: result.at, trigger, errors: result.errors };
      const fields = {
        trigger,
        ok: result.ok,
        applied: result.applied,
        revision: result.revision,
        added: result.added,
        removed: result.removed,
        restarted: result.restarted,
        reconnected: result.reconnected,
        scaled: result.scaled,
        unchanged: result.unchanged,
        kafka: result.kafka,
        http: result.http,
        errors: result.errors.length,
        summary: describeOutcome(result),
      };
      if (result.ok) logger.info("config reload", fields);
      else logger.error("config reload", fields);
      return result;
    };
    const failed = (errors: ConfigIssue[]): ReloadResult => {
      const outcome = emptyOutcome(current.consumers.map((c) => c.name));
      return finish({
        ok: false,
        trigger,
        at: new Date().toISOString(),
        revision: this.#revision,
        applied: false,
        ...outcome,
        errors,
      });
    };
    if (this.#closed) {
      return failed([{
        file: this.#path,
        line: 1,
        column: 1,
        path: "",
        message: "the daemon is shutting down",
      }]);
    }

    const loaded = await this.#loadChecked();
    if (Array.isArray(loaded)) {
      for (const issue of loaded) logger.error("invalid config", { trigger, ...issue });
      return failed(loaded);
    }
    const { next, checked } = loaded;
    const handlers = next.reload.handlers ? fingerprintsOf(this.#handlers) : NO_HANDLERS;
    const diff = diffConfigs(
      configSnapshot(current, handlers),
      configSnapshot(next, next.reload.handlers ? fingerprintsOf(checked) : NO_HANDLERS),
    );
    const applied = changesAnything(diff) ||
      fingerprintValue(settings(current)) !== fingerprintValue(settings(next));
    if (applied) {
      const previous = this.#handlers;
      // The versions new workers may start with, from the moment they can start.
      this.#handlers = checked;
      try {
        await this.#options.apply(next, diff);
      } catch (error) {
        this.#handlers = previous;
        const message = `cannot apply the new config: ${
          error instanceof Error ? error.message : String(error)
        }`;
        return failed([{ file: this.#path, line: 1, column: 1, path: "", message }]);
      }
      this.#revision++;
      if (this.#watching) this.watch(); // the directories of the new config
    }
    return finish({
      ok: true,
      trigger,
      at: new Date().toISOString(),
      revision: this.#revision,
      applied,
      ...(applied ? diffOutcome(diff) : emptyOutcome(next.consumers.map((c) => c.name))),
      errors: [],
    });
  }
}

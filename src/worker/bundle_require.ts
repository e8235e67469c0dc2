/**
 * `require()` of Node's built-in modules and kafkajs's environment reads, as
 * the worker bundle sees them (scripts/build.ts rewires the bundle to this
 * module in place of `createRequire` from `node:module` and the global
 * `process`).
 *
 * On Deno, the first touch of `node:module` or of the global `process`
 * loads a large part of the Node compatibility layer into the isolate: ~30
 * ms of CPU and ~3.5 MiB per worker, for a `require` that kafkajs uses to
 * get `events` and `util` and, at load, `crypto`, `zlib` and `assert` for
 * features that most consumers never use (SCRAM, gzip, transactions). Those
 * load on first use here instead, and so does `tty` (see `ON_FIRST_USE`).
 * Any other built-in (the CommonJS dependencies of @platformatic/kafka ask
 * for `buffer`, `stream`, …, and extend their classes) is the module itself,
 * loaded when asked for.
 *
 * @module
 */
import events from "node:events";
import util from "node:util";

const EAGER: Record<string, unknown> = { events, util };
/**
 * What kafkajs requires when it loads, for features it uses later if at all;
 * and `tty`, which `debug` (a dependency of @platformatic/kafka) requires
 * when it loads and calls only through `stderrIsTerminal` in the bundle
 * (platformatic_builtins.ts): on Deno, `node:tty` loads `node:net`.
 */
const ON_FIRST_USE = new Set(["assert", "crypto", "net", "tls", "tty", "zlib"]);

/**
 * A built-in module by name (`"zlib"` or `"node:zlib"`): `events` and
 * `util` at once; kafkajs's others when first used ({@linkcode lazyBuiltin});
 * any other, the module itself.
 */
export function bundleRequire(id: string): unknown {
  const name = id.startsWith("node:") ? id.slice("node:".length) : id;
  return EAGER[name] ?? (ON_FIRST_USE.has(name) ? lazyBuiltin(name) : getBuiltin(name));
}

/**
 * A stand-in for a built-in module that loads it on first use. Until then,
 * reading a property gives a function that calls the module's function of
 * that name (kafkajs reads `zlib.gzip` at load to promisify it), and calling
 * the stand-in calls the module (`assert(…)`).
 */
export function lazyBuiltin(name: string): unknown {
  let real: Record<PropertyKey, unknown> | null = null;
  const load = (): Record<PropertyKey, unknown> => {
    real ??= getBuiltin(name);
    return real;
  };
  return new Proxy(function builtin() {}, {
    apply: (_target, _this, args: unknown[]) => (load() as unknown as Fn)(...args),
    get: (_target, key) => {
      if (real !== null) return real[key];
      return (...args: unknown[]) => (load()[key] as Fn)(...args);
    },
  });
}

/**
 * A stand-in for a built-in module's class that other classes extend when
 * they load (`class MessagesStream extends Readable`): the module loads when
 * the first instance of the stand-in or of a subclass is made, or a static
 * member is read through either (`Sub.from`), and from then on the
 * stand-in's prototype and constructor inherit from the real class's, so
 * instances are the real class's (`instanceof`, its methods, `super.x()`).
 */
export function lazyBaseClass(module: string, name: string): new (...args: unknown[]) => object {
  let real: (new (...args: unknown[]) => object) | null = null;
  const load = () => {
    if (real !== null) return real;
    const cls = getBuiltin(module)[name];
    if (typeof cls !== "function") {
      throw new Error(`no class ${name} in the built-in module "node:${module}" of this runtime`);
    }
    real = cls as new (...args: unknown[]) => object;
    Object.setPrototypeOf(StandIn.prototype, real.prototype);
    Object.setPrototypeOf(StandIn, real);
    return real;
  };
  function StandIn(this: unknown, ...args: unknown[]): object {
    if (new.target === undefined) {
      throw new TypeError(`Class constructor ${name} cannot be invoked without 'new'`);
    }
    return Reflect.construct(load(), args, new.target);
  }
  Object.defineProperty(StandIn, "name", { value: name });
  // Reading anything but its own `prototype`, `name` and `length` (what `extends` reads) loads it.
  return new Proxy(StandIn, {
    get: (target, key, receiver) => {
      if (!Object.hasOwn(target, key)) load();
      return Reflect.get(target, key, receiver);
    },
  }) as unknown as new (...args: unknown[]) => object;
}

/** An environment variable, or undefined when unset or not readable by this worker. */
export function bundleEnv(name: string): string | undefined {
  try {
    return "Deno" in globalThis ? Deno.env.get(name) : globalThis.process?.env[name];
  } catch {
    return undefined; // not in the worker's environment allow-list
  }
}

type Fn = (...args: unknown[]) => unknown;

function getBuiltin(name: string): Record<PropertyKey, unknown> {
  const process = (globalThis as { process?: { getBuiltinModule?(id: string): unknown } }).process;
  const mod = process?.getBuiltinModule?.(`node:${name}`);
  if (mod === undefined) throw new Error(`no built-in module "node:${name}" in this runtime`);
  return mod as Record<PropertyKey, unknown>;
}

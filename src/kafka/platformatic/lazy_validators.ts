/**
 * Defers the schema compilation @platformatic/kafka does when it loads.
 *
 * The library compiles 38 ajv validators at module load (the options of
 * every client and every method: admin, producer, consumer), and ajv
 * compiles the 2020-12 meta-schema to check them first. That was about
 * 400 ms of CPU and 15 MiB in every worker, on every start, though a
 * consumer's worker calls one of them (the group options, when the
 * `Consumer` is created): the per-call checks run only with the library's
 * `strict` option, which is off.
 *
 * While the library loads, ajv's `compile()` returns a validator that
 * compiles its schema on its first call and then behaves as the compiled
 * one (result, and `errors` after each call). That compilation skips
 * checking the library's schema against JSON Schema's meta-schema (ajv
 * would compile the whole 2020-12 meta-schema for it, another 60 ms per
 * worker): the schemas are the library's constants; ajv's strict checks,
 * made while compiling, still apply. A schema ajv would reject is thus
 * reported at that first call instead of at load. Afterwards `compile()`
 * is ajv's own again, for any other code in the worker.
 *
 * The consumer's group options are checked whatever `strict` says, when the
 * `Consumer` is created and again at its first join: two more schemas, about
 * 25 ms of CPU in every worker. The engine builds those options itself from
 * a configuration already checked, so that the library's checks pass by
 * construction (`tests/unit/kafka/platformatic/consumer_options_test.ts` runs
 * them on the extremes the configuration allows): {@linkcode engineChecked}
 * marks them, and a validator passes marked options without compiling. The
 * mark is their `protocols` array, which the library copies by reference
 * into every group-options object it checks.
 *
 * @module
 */
// The class of the library's ajv instance, from the copy it resolves (the
// same version is a direct dependency, so that one copy is installed).
import Ajv2020Module from "ajv/dist/2020.js";

/** An ajv validate function: the result, and the errors of the last call. */
export interface Validator {
  (this: unknown, ...args: unknown[]): unknown;
  errors?: unknown;
}

/** Ajv's `compile` method. */
type Compile = (this: AjvInstance, schema: unknown, meta?: boolean) => Validator;
/** The part of an ajv instance read here. */
interface AjvInstance {
  opts: { validateSchema?: unknown };
}

/**
 * A validator that calls `compile` on its first call (once) and then
 * forwards every call to the validator it returned, copying its `errors`;
 * data that `passes` is valid without either.
 *
 * @example
 * ```ts
 * let compiled = 0;
 * const isText = lazyValidator(() => {
 *   compiled++;
 *   return (data: unknown) => typeof data === "string";
 * });
 * compiled; // 0
 * isText("a"); // true; compiled is now 1
 * ```
 */
export function lazyValidator(
  compile: () => Validator,
  passes: (data: unknown) => boolean = () => false,
): Validator {
  let compiled: Validator | null = null;
  const validate: Validator = function (this: unknown, ...args: unknown[]) {
    if (passes(args[0])) {
      validate.errors = null;
      return true;
    }
    compiled ??= compile();
    const result = compiled.apply(this, args);
    validate.errors = compiled.errors;
    return result;
  };
  validate.errors = null;
  return validate;
}

/**
 * Runs `load` (the library's import) with ajv's `compile()` returning
 * {@linkcode lazyValidator}s, and puts ajv's own back when it settles.
 *
 * @example
 * ```ts ignore
 * const library = await withLazyValidators(() => import("@platformatic/kafka"));
 * ```
 */
export async function withLazyValidators<T>(load: () => Promise<T>): Promise<T> {
  const prototype = ajv2020Prototype();
  const compile = prototype.compile;
  prototype.compile = function (this: AjvInstance, schema: unknown, meta?: boolean) {
    return lazyValidator(() => {
      const { opts } = this;
      const check = opts.validateSchema;
      opts.validateSchema = false;
      try {
        return compile.call(this, schema, meta);
      } finally {
        opts.validateSchema = check;
      }
    }, isEngineChecked);
  };
  try {
    return await load();
  } finally {
    // The method was inherited from ajv's base class: inherit it again.
    delete (prototype as { compile?: Compile }).compile;
  }
}

/** The `protocols` arrays of options {@linkcode engineChecked} marked. */
const checkedProtocols = new WeakSet<object>();

/**
 * Marks consumer options the engine built from a checked configuration:
 * the library's validators pass them, and every object it derives from them
 * (they share the `protocols` array), without compiling.
 *
 * @example
 * ```ts ignore
 * new library.Consumer(engineChecked({ groupId, protocols: [{ name, version: 0 }], ... }));
 * ```
 */
export function engineChecked<T extends { protocols: object[] }>(options: T): T {
  checkedProtocols.add(options.protocols);
  return options;
}

/** Whether `data` is group options {@linkcode engineChecked} marked. */
function isEngineChecked(data: unknown): boolean {
  if (typeof data !== "object" || data === null) return false;
  const { protocols } = data as { protocols?: unknown };
  return typeof protocols === "object" && protocols !== null && checkedProtocols.has(protocols);
}

/** Ajv2020's prototype (the CommonJS module's default export, however it is imported). */
function ajv2020Prototype(): { compile: Compile } {
  const module = Ajv2020Module as unknown as {
    prototype?: { compile?: unknown };
    default?: { prototype?: { compile?: unknown } };
  };
  const prototype = module.prototype ?? module.default?.prototype;
  if (typeof prototype?.compile !== "function" || Object.hasOwn(prototype, "compile")) {
    throw new Error(
      "Cannot load @platformatic/kafka: the installed ajv's Ajv2020 does not inherit compile() from Ajv as ajv 8.20.0 does",
    );
  }
  return prototype as { compile: Compile };
}

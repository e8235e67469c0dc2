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
 * ajv is imported dynamically, so that the worker bundle loads it only when
 * something asks for it: the engine from the package, before the library
 * ({@linkcode withLazyValidators}); code that checks options the engine did
 * not build, in the bundle ({@linkcode loadLibraryValidation}).
 *
 * @module
 */
import {
  compileLibrarySchema,
  engineChecked,
  isEngineChecked,
  lazyValidator,
  LIBRARY_AJV_IS_LAZY,
  type LibraryAjv,
  provideAjvClass,
  type Validator,
} from "./lazy_ajv.ts";

export { engineChecked, lazyValidator, type Validator };

/** Ajv's `compile` method. */
type Compile = (this: LibraryAjv, schema: unknown, meta?: boolean) => Validator;

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
  // The bundle's library compiles nothing at load, and ajv is not loaded yet: leave it so.
  if (LIBRARY_AJV_IS_LAZY) return await load();
  const prototype = inheritedCompile(await importAjv2020());
  const compile = prototype.compile;
  prototype.compile = function (this: LibraryAjv, schema: unknown, meta?: boolean) {
    return lazyValidator(() => compileLibrarySchema(compile, this, schema, meta), isEngineChecked);
  };
  try {
    return await load();
  } finally {
    // The method was inherited from ajv's base class: inherit it again.
    delete (prototype as { compile?: Compile }).compile;
  }
}

/**
 * Makes the library able to check options the engine did not build
 * ({@linkcode engineChecked}): in the worker bundle, loads ajv and gives it
 * to the library's stand-in; from the package, where the library loaded
 * ajv itself, there is nothing to do.
 *
 * @example
 * ```ts ignore
 * await loadLibraryValidation();
 * new library.Consumer({ groupId, sessionTimeout: -1, ... }); // the library's validation error
 * ```
 */
export async function loadLibraryValidation(): Promise<void> {
  if (LIBRARY_AJV_IS_LAZY) provideAjvClass(await importAjv2020());
}

/** The class of the library's ajv instance (the library and the engine share one installed copy). */
type Ajv2020Class = new (options: object) => LibraryAjv;

/** ajv's `Ajv2020` class, loaded from the copy the library resolves (a direct dependency). */
async function importAjv2020(): Promise<Ajv2020Class> {
  const module = await import("ajv/dist/2020.js") as {
    default?: { Ajv2020?: unknown };
    Ajv2020?: unknown;
  };
  const Ajv2020 = module.Ajv2020 ?? module.default?.Ajv2020;
  if (typeof Ajv2020 !== "function") {
    throw new Error(
      "Cannot load @platformatic/kafka's validation: ajv/dist/2020.js has no Ajv2020",
    );
  }
  return Ajv2020 as Ajv2020Class;
}

/** The prototype of `Ajv2020`, which must inherit `compile` from ajv's base class. */
function inheritedCompile(Ajv2020: Ajv2020Class): { compile: Compile } {
  const prototype = Ajv2020.prototype as { compile?: unknown };
  if (typeof prototype.compile !== "function" || Object.hasOwn(prototype, "compile")) {
    throw new Error(
      "Cannot load @platformatic/kafka: the installed ajv's Ajv2020 does not inherit compile() from Ajv as ajv 8.20.0 does",
    );
  }
  return prototype as { compile: Compile };
}

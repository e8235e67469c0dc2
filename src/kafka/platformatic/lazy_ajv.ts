/**
 * Validators compiled on first use, and, in the worker bundle, an ajv that
 * is not even loaded unless one is.
 *
 * @platformatic/kafka creates an ajv instance and compiles 38 validators
 * when it loads (lazy_validators.ts explains why none of that is needed to
 * consume). From its package, the engine makes those compilations lazy
 * while the library loads ({@linkcode lazyValidator}); ajv itself still
 * loads. In the worker bundle the library creates {@linkcode libraryAjv}'s
 * stand-in instead of its instance (the build edits that line:
 * scripts/worker_library.ts), and ajv is a chunk of its own that nothing
 * imports at load: a consumer's worker never needs it (its group options are
 * {@linkcode engineChecked}), and neither loads nor parses ajv's ~190 KB.
 * Options the engine did not mark need ajv loaded first
 * (`loadLibraryValidation()` in lazy_validators.ts, which the bundle's
 * `platformatic_ajv.js` exports); until then checking them throws, rather
 * than passing them unchecked.
 *
 * This module must not import ajv.
 *
 * @module
 */

/** An ajv validate function: the result, and the errors of the last call. */
export interface Validator {
  (this: unknown, ...args: unknown[]): unknown;
  errors?: unknown;
}

/** The ajv methods @platformatic/kafka calls on its instance (the build checks it calls no others). */
export interface LibraryAjv {
  opts: { validateSchema?: unknown };
  compile(schema: unknown, meta?: boolean): Validator;
  addKeyword(definition: unknown): unknown;
  errorsText(errors?: unknown, options?: unknown): string;
}

/**
 * Whether the library's ajv is {@linkcode libraryAjv}'s stand-in: false as
 * written, true in the worker bundle, whose build (scripts/build.ts) sets it.
 */
export const LIBRARY_AJV_IS_LAZY: boolean = false;

/** What {@linkcode libraryAjv}'s stand-ins create their instance with, once ajv is loaded. */
let ajvClass: (new (options: object) => LibraryAjv) | null = null;

/**
 * Gives {@linkcode libraryAjv}'s stand-ins the class to create their
 * instance with (ajv's `Ajv2020`, once loaded).
 */
export function provideAjvClass(loaded: new (options: object) => LibraryAjv): void {
  ajvClass = loaded;
}

/**
 * What the worker bundle's @platformatic/kafka calls instead of
 * `new Ajv2020(options)`: a {@linkcode lazyAjv} stand-in that creates the
 * instance, with `options`, from the class {@linkcode provideAjvClass} gave.
 *
 * @throws {Error} (from the stand-in's validators when one first needs
 *   compiling, and from its `opts` and `errorsText`) When no class was
 *   provided yet.
 */
export function libraryAjv(options: object): LibraryAjv {
  return lazyAjv(() => {
    if (ajvClass === null) {
      throw new Error(
        "@platformatic/kafka cannot check options the engine did not build: the worker bundle loads its ajv on demand (await loadLibraryValidation() first)",
      );
    }
    return new ajvClass(options);
  });
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
export function isEngineChecked(data: unknown): boolean {
  if (typeof data !== "object" || data === null) return false;
  const { protocols } = data as { protocols?: unknown };
  return typeof protocols === "object" && protocols !== null && checkedProtocols.has(protocols);
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
 * `compile` on `ajv` without checking `schema` against JSON Schema's
 * meta-schema (ajv would compile the whole 2020-12 meta-schema for it): the
 * library's schemas are its constants; ajv's strict checks still apply.
 */
export function compileLibrarySchema(
  compile: (this: LibraryAjv, schema: unknown, meta?: boolean) => Validator,
  ajv: LibraryAjv,
  schema: unknown,
  meta?: boolean,
): Validator {
  const check = ajv.opts.validateSchema;
  ajv.opts.validateSchema = false;
  try {
    return compile.call(ajv, schema, meta);
  } finally {
    ajv.opts.validateSchema = check;
  }
}

/**
 * A stand-in for the library's ajv instance that creates it (`create`)
 * when first needed: `compile` returns a {@linkcode lazyValidator} (which
 * passes {@linkcode engineChecked} options), `addKeyword` is kept until the
 * instance exists and then given to it, `errorsText` needs the instance.
 *
 * @example
 * ```ts ignore
 * const ajv = lazyAjv(() => new Ajv2020({ allErrors: true }));
 * ```
 */
export function lazyAjv(create: () => LibraryAjv): LibraryAjv {
  let real: LibraryAjv | null = null;
  const keywords: unknown[] = [];
  const instance = (): LibraryAjv => {
    if (real !== null) return real;
    real = create();
    for (const definition of keywords.splice(0)) real.addKeyword(definition);
    return real;
  };
  return {
    get opts() {
      return instance().opts;
    },
    compile(schema, meta) {
      return lazyValidator(() => {
        const ajv = instance();
        return compileLibrarySchema(ajv.compile, ajv, schema, meta);
      }, isEngineChecked);
    },
    addKeyword(definition) {
      if (real === null) keywords.push(definition);
      else real.addKeyword(definition);
      return this;
    },
    errorsText(errors, options) {
      return instance().errorsText(errors, options);
    },
  };
}

/**
 * What the worker bundle's copy of @platformatic/kafka creates its ajv
 * instance with (scripts/worker_library.ts edits that line to import this
 * module): a stand-in that creates it when a validator first needs
 * compiling (src/kafka/platformatic/lazy_ajv.ts); and how code in a bundled
 * worker loads ajv for it, to check options the engine did not build.
 *
 * @module
 */
export { libraryAjv } from "../kafka/platformatic/lazy_ajv.ts";
export { loadLibraryValidation } from "../kafka/platformatic/lazy_validators.ts";

/**
 * What the worker bundle's copy of @platformatic/kafka creates its ajv
 * instance with (scripts/build.ts rewires that line to this module): a
 * stand-in that loads ajv when a validator first needs compiling
 * (src/kafka/platformatic/lazy_ajv.ts).
 *
 * @module
 */
export { lazyAjv } from "../kafka/platformatic/lazy_ajv.ts";

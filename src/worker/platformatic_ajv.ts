/**
 * What code in a bundled worker calls to have @platformatic/kafka check
 * options the engine did not build: the bundle's copy of the library creates
 * its ajv as a stand-in (src/kafka/platformatic/lazy_ajv.ts), and ajv is a
 * chunk that only this loads. A bundle entry of its own, so that it is there
 * whatever the engine's chunks use.
 *
 * @module
 */
export { loadLibraryValidation } from "../kafka/platformatic/lazy_validators.ts";

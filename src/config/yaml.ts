/**
 * The `yaml` package, from its ES module build.
 *
 * Its package exports give Deno (which matches the `node` condition) the
 * CommonJS build, which Deno's Node loader reads and compiles file by file
 * at every daemon start: about 80 ms before the first worker starts,
 * against about 15 ms for the ES modules, which the runtime's code cache
 * holds. The types are the package's own.
 *
 * @module
 */
// @ts-types="yaml"
export {
  isAlias,
  isMap,
  isPair,
  isScalar,
  isSeq,
  LineCounter,
  parseDocument,
  visit,
} from "../../node_modules/yaml/browser/index.js";
// @ts-types="yaml"
export type { Document, Scalar, YAMLError } from "../../node_modules/yaml/browser/index.js";

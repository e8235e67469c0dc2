/**
 * Loads @platformatic/kafka through the engine in a fresh isolate and
 * reports how many of the library's ajv validators were compiled by then
 * (none can be counted when its ajv is the bundle's stand-in, which creates
 * the instance out of reach).
 * It then builds a Consumer with options the engine did not build, before
 * and after `loadLibraryValidation()`, and reports the errors.
 * The engine comes from the sources, or from the module of a worker bundle
 * named by the worker's name (a file URL), and `loadLibraryValidation` from
 * `src/worker/platformatic_ajv.ts` or the bundle's module of it.
 *
 * @module
 */
import type { loadPlatformatic as LoadPlatformatic } from "../../../../src/kafka/platformatic/library.ts";
import type { loadLibraryValidation as LoadLibraryValidation } from "../../../../src/worker/platformatic_ajv.ts";

declare const self: { name: string; postMessage(message: unknown): void };

const bundled = self.name.startsWith("file:");
const { loadPlatformatic } = await import(
  bundled ? self.name : "../../../../src/kafka/platformatic/library.ts"
) as { loadPlatformatic: typeof LoadPlatformatic };
const { loadLibraryValidation } = await import(
  bundled
    ? new URL("./platformatic_ajv.js", self.name).href
    : "../../../../src/worker/platformatic_ajv.ts"
) as { loadLibraryValidation: typeof LoadLibraryValidation };

interface SchemaEnv {
  validate?: unknown;
}

const library = await loadPlatformatic();
const ajv = (library as unknown as { ajv: { _cache?: Map<unknown, SchemaEnv>; compile: unknown } })
  .ajv;
const standIn = ajv._cache === undefined;
const compiled = () =>
  standIn ? -1 : [...ajv._cache!.values()].filter((env) => env.validate !== undefined).length;
const afterLoad = compiled();
/** The error of a Consumer built with options the library refuses. */
function groupOptionsError(): string {
  try {
    new library.Consumer({
      clientId: "lazy-validators-test",
      bootstrapBrokers: ["127.0.0.1:1"],
      groupId: "g",
      sessionTimeout: -1,
    });
    return "";
  } catch (error) {
    return `${(error as Error).name}: ${(error as Error).message}`;
  }
}
const errorBeforeValidation = groupOptionsError();
await loadLibraryValidation();
const consumer = new library.Consumer({
  clientId: "lazy-validators-test",
  bootstrapBrokers: ["127.0.0.1:1"],
  groupId: "g",
});
await consumer.close();
self.postMessage({
  standIn,
  afterLoad,
  afterConsumer: compiled(),
  errorBeforeValidation,
  groupOptionsError: groupOptionsError(),
  ownCompile: standIn || ajv.compile === Object.getPrototypeOf(Object.getPrototypeOf(ajv)).compile,
});

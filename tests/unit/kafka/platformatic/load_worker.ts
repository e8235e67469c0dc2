/**
 * Loads @platformatic/kafka through the engine in a fresh isolate and
 * reports how many of the library's ajv validators were compiled by then
 * (none can be counted when its ajv is the bundle's stand-in, which creates
 * the instance out of reach).
 * The engine comes from the sources, or from the module of a worker bundle
 * named by the worker's name (a file URL).
 *
 * @module
 */
import type { loadPlatformatic as LoadPlatformatic } from "../../../../src/kafka/platformatic/library.ts";

declare const self: { name: string; postMessage(message: unknown): void };

const { loadPlatformatic } = await import(
  self.name.startsWith("file:") ? self.name : "../../../../src/kafka/platformatic/library.ts"
) as { loadPlatformatic: typeof LoadPlatformatic };

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
let groupOptionsError = "";
try {
  new library.Consumer({
    clientId: "lazy-validators-test",
    bootstrapBrokers: ["127.0.0.1:1"],
    groupId: "g",
    sessionTimeout: -1,
  });
} catch (error) {
  groupOptionsError = `${(error as Error).name}: ${(error as Error).message}`;
}
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
  groupOptionsError,
  ownCompile: standIn || ajv.compile === Object.getPrototypeOf(Object.getPrototypeOf(ajv)).compile,
});

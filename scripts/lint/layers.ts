/**
 * Lint rule `consumerd/layers`: imports in `src/` point one way, down the
 * layers (cli → http → supervisor → worker → kafka → offsets, config,
 * protocol, log), and each Kafka client library is imported only inside its
 * engine's folder (`src/kafka/kafkajs/`, `src/kafka/platformatic/`).
 * Dynamic imports count: they load the module all the same.
 *
 * @module
 */
import { dirname, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** The project's `src/` directory. */
export const SRC: string = fileURLToPath(new URL("../../src/", import.meta.url));

/**
 * The layers of `src/`, top first; a file imports its own layer and those
 * below it. An entry ending in `/` is a directory, any other a file.
 */
export const LAYERS: ReadonlyArray<{ name: string; holds: readonly string[] }> = [
  { name: "entry", holds: ["main.ts", "mod.ts"] },
  { name: "cli", holds: ["cli/"] },
  { name: "http", holds: ["http/"] },
  { name: "supervisor", holds: ["supervisor/"] },
  { name: "worker", holds: ["worker/"] },
  { name: "kafka", holds: ["kafka/"] },
  {
    name: "base",
    holds: [
      "offsets/",
      "config/",
      "protocol.ts",
      "log.ts",
      "message.ts",
      "produce_record.ts",
      "backoff.ts",
      "runtime/",
    ],
  },
];

/** The client libraries and the only folder of `src/` that may import each. */
export const ENGINE_LIBRARIES: ReadonlyArray<{ pattern: RegExp; folder: string }> = [
  { pattern: /^(npm:)?kafkajs(@[^/]*)?(\/|$)/, folder: "kafka/kafkajs/" },
  { pattern: /^(npm:)?@platformatic\/kafka(@[^/]*)?(\/|$)/, folder: "kafka/platformatic/" },
];

/** The index in {@linkcode LAYERS} of a path relative to `src/`, or -1 when it is in none. */
export function layerOf(path: string): number {
  return LAYERS.findIndex((layer) =>
    layer.holds.some((entry) => entry.endsWith("/") ? path.startsWith(entry) : path === entry)
  );
}

/**
 * What is wrong with the file `from` (relative to `src/`) importing
 * `specifier`, or null when nothing is.
 *
 * @example
 * ```ts
 * import { importProblem } from "./layers.ts";
 * importProblem("worker/loop.ts", "../supervisor/status.ts");
 * // "the worker layer imports src/supervisor/status.ts of the supervisor layer above it"
 * ```
 */
export function importProblem(from: string, specifier: string): string | null {
  const engine = ENGINE_LIBRARIES.find((e) => e.pattern.test(specifier));
  if (engine !== undefined) {
    return from.startsWith(engine.folder)
      ? null
      : `${specifier} is imported only in src/${engine.folder}, not in src/${from}`;
  }
  if (!specifier.startsWith(".")) return null;
  const target = relative(SRC, resolve(SRC, dirname(from), specifier));
  const [source, imported] = [layerOf(from), layerOf(target)];
  if (source === -1 || imported === -1 || imported >= source) return null;
  return `the ${LAYERS[source]!.name} layer imports src/${target} of the ${
    LAYERS[imported]!.name
  } layer above it`;
}

/**
 * Reports imports of `src/` files that go up a layer or reach a client
 * library outside its engine.
 *
 * @example
 * ```ts ignore
 * const plugin: Deno.lint.Plugin = { name: "consumerd", rules: { layers } };
 * ```
 */
export const layers: Deno.lint.Rule = {
  create(context) {
    const from = relative(SRC, context.filename);
    if (from.startsWith("..")) return {};
    const check = (node: Deno.lint.Node, source: Deno.lint.Node | null) => {
      if (source?.type !== "Literal" || typeof source.value !== "string") return;
      const problem = importProblem(from, source.value);
      if (problem !== null) {
        context.report({
          node,
          message: problem,
          hint:
            "Layers: cli → http → supervisor → worker → kafka → offsets, config, protocol, log.",
        });
      }
    };
    return {
      ImportDeclaration: (node) => check(node, node.source),
      ExportAllDeclaration: (node) => check(node, node.source),
      ExportNamedDeclaration: (node) => check(node, node.source),
      ImportExpression: (node) => check(node, node.source),
    };
  },
};

/**
 * Where a handler's packages come from, and what to say when one is
 * missing: a handler's bare imports resolve from the node_modules of its
 * own project (the directory of the nearest package.json up from it), on
 * Deno, Bun and in the compiled binary alike; never from consumerd's own
 * packages, and not through `npm:` specifiers (Deno resolves those only
 * when the package is installed anyway; Bun never). Pure.
 *
 * @module
 */

// Deno: `Import "x" not a dependency…`, `Could not find a matching package for 'npm:x@1' in the
// node_modules directory…`, `Could not resolve "x", but found it in a package.json…`;
// Bun: `Cannot find package 'x' imported from '/h.ts'`, `Cannot find module 'x' from '/h.ts'`.
const MISSING = [
  /\bImport "([^"]+)" not a dependency/,
  /\bCould not find a matching package for '([^']+)'/,
  /\bCould not resolve "([^"]+)", but found it in a package\.json/,
  /\bCannot find package '([^']+)'/,
  /\bCannot find module '([^']+)' from/,
];

/**
 * The package specifier a module failed to resolve, per the runtime's
 * error, or null when the error is something else (a relative import that
 * is missing is not a package).
 *
 * @example
 * ```ts
 * missingPackage(new TypeError('Import "kafkajs" not a dependency and not in import map'));
 * // "kafkajs"
 * ```
 */
export function missingPackage(error: unknown): string | null {
  const message = error instanceof Error ? error.message : String(error);
  for (const pattern of MISSING) {
    const specifier = pattern.exec(message)?.[1];
    if (specifier === undefined) continue;
    if (/^(\.|\/|file:|https?:|node:)/.test(specifier)) return null;
    return specifier;
  }
  return null;
}

/** An npm package specifier's parts: `@scope/name@1/sub` → `@scope/name`, `1`, `/sub`. */
function packageParts(specifier: string): { name: string; version: string; subpath: string } {
  const bare = specifier.replace(/^npm:\/?/, "");
  const match = /^((?:@[^/@]+\/)?[^/@]+)(?:@([^/]*))?(\/.*)?$/.exec(bare);
  return { name: match?.[1] ?? bare, version: match?.[2] ?? "", subpath: match?.[3] ?? "" };
}

/**
 * What to do about a package the handler imports but its project lacks.
 * `projectRoot` is the directory of the handler's package.json, or null
 * when it has none; `handlerDir` the handler's own directory.
 *
 * @example
 * ```ts
 * missingPackageProblem("kafkajs", { projectRoot: "/srv/h", handlerDir: "/srv/h" });
 * // 'the handler imports "kafkajs", which its project does not have: run `npm install kafkajs`
 * //  in /srv/h (the directory of its package.json)'
 * ```
 */
export function missingPackageProblem(
  specifier: string,
  { projectRoot, handlerDir }: { projectRoot: string | null; handlerDir: string },
): string {
  const { name, version, subpath } = packageParts(specifier);
  const install = `npm install ${version === "" ? name : `${name}@${version}`}`;
  if (specifier.startsWith("npm:")) {
    const where = projectRoot === null
      ? "add a package.json beside the handler, run `" + install + "` there"
      : `run \`${install}\` in ${projectRoot} (the directory of its package.json)`;
    return `the handler imports "${specifier}": a handler's packages come from the ` +
      `node_modules of its project, on every runtime — ${where}, and import "${name}${subpath}"`;
  }
  const fix = projectRoot === null
    ? `no package.json above it — create one in ${handlerDir} (npm init -y) and run ` +
      `\`${install}\` there`
    : `run \`${install}\` in ${projectRoot} (the directory of its package.json)`;
  return `the handler imports "${specifier}", which its project does not have: ${fix}`;
}

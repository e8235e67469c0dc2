/**
 * Lint rule `consumerd/imports-first`: every import of a file stands above
 * its first line of code, where a reader looks for what the file depends on.
 * Re-exports from another module (`export … from`) count as imports.
 *
 * @module
 */

/** Whether a top-level statement imports another module. */
export function isImport(statement: Deno.lint.Node): boolean {
  switch (statement.type) {
    case "ImportDeclaration":
    case "ExportAllDeclaration":
      return true;
    case "ExportNamedDeclaration":
      return statement.source !== null;
    default:
      return false;
  }
}

/**
 * Reports each import that follows code.
 *
 * @example
 * ```ts ignore
 * const plugin: Deno.lint.Plugin = { name: "consumerd", rules: { "imports-first": importsFirst } };
 * ```
 */
export const importsFirst: Deno.lint.Rule = {
  create(context) {
    return {
      Program(program) {
        let code: Deno.lint.Node | null = null;
        for (const statement of program.body) {
          if (!isImport(statement)) code ??= statement;
          else if (code !== null) {
            const line = context.sourceCode.text.slice(0, code.range[0]).split("\n").length;
            context.report({
              node: statement,
              message: `import below code (the code starting on line ${line})`,
              hint: "Move it up to the file's other imports.",
            });
          }
        }
      },
    };
  },
};

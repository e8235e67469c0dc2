/**
 * consumerd's own lint rules, run by `deno lint` (`lint.plugins` in
 * deno.json): `consumerd/imports-first` and `consumerd/layers`.
 *
 * @module
 */
import { importsFirst } from "./imports_first.ts";
import { layers } from "./layers.ts";

const plugin: Deno.lint.Plugin = {
  name: "consumerd",
  rules: { "imports-first": importsFirst, layers },
};

export default plugin;

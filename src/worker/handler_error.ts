/**
 * A handler's error as the operator reads it in logs and `/status`: a
 * permission denial names the consumer and the YAML key that grants it; a
 * package the handler's project lacks says where to install it. Pure.
 *
 * @module
 */
import { missingPackage, missingPackageProblem } from "../config/handler_packages.ts";
import { describeDenial } from "../config/permission_denial.ts";
import type { ConfigSource } from "../protocol.ts";

/**
 * `error` in the config's terms when it is a permission denial or a
 * missing package, else null.
 *
 * @example
 * ```ts
 * explainHandlerError(error, start.source, consumer.handler) ?? String(error);
 * ```
 */
export function explainHandlerError(
  error: unknown,
  source: ConfigSource | undefined,
  handler: string,
): string | null {
  const denied = describeDenial(error, source?.place);
  if (denied !== null) return denied;
  const missing = missingPackage(error);
  if (missing === null) return null;
  return missingPackageProblem(missing, {
    projectRoot: source?.projectRoot ?? null,
    // The handler's directory (node:path is not loaded into workers for this).
    handlerDir: handler.replace(/[/\\][^/\\]*$/, ""),
  });
}

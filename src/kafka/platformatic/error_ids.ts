/**
 * What an error of @platformatic/kafka says: the protocol error ids inside
 * it, and whether the library lets it be tried again. Pure.
 *
 * @module
 */

/** The protocol error ids inside a library error (nested in MultipleErrors). */
export function errorIds(error: unknown): string[] {
  if (typeof error !== "object" || error === null) return [];
  const e = error as { apiId?: unknown; errors?: unknown };
  const own = typeof e.apiId === "string" ? [e.apiId] : [];
  return Array.isArray(e.errors) ? [...own, ...e.errors.flatMap(errorIds)] : own;
}

/** Whether the library says the operation may succeed when tried again. */
export function isRetriable(error: unknown): boolean {
  if (typeof error !== "object" || error === null) return false;
  const e = error as { canRetry?: unknown; errors?: unknown; name?: unknown };
  if (e.canRetry === true) return true;
  if (e.name === "NetworkError" || e.name === "TimeoutError") return true;
  return Array.isArray(e.errors) && e.errors.some(isRetriable);
}

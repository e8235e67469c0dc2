/**
 * Who may talk to the status server: loopback addresses, and the bearer
 * token compared in constant time.
 *
 * @module
 */

/**
 * Whether `host` is a loopback address (127.0.0.0/8, ::1, localhost).
 *
 * @example
 * ```ts
 * isLoopback("127.0.0.1"); // true
 * isLoopback("0.0.0.0"); // false
 * ```
 */
export function isLoopback(host: string): boolean {
  const h = host.toLowerCase();
  return h === "localhost" || h === "::1" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h) ||
    h === "::ffff:127.0.0.1";
}

async function digest(text: string): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text)));
}

/**
 * Compares two secrets in time that depends on neither (both are hashed
 * first, so their lengths do not show either).
 */
export async function secretsEqual(a: string, b: string): Promise<boolean> {
  const [x, y] = await Promise.all([digest(a), digest(b)]);
  let diff = 0;
  for (let i = 0; i < x.length; i++) diff |= x[i]! ^ y[i]!;
  return diff === 0;
}

/** Whether `request` carries `Authorization: Bearer <token>`. */
export async function hasBearerToken(request: Request, token: string): Promise<boolean> {
  const header = request.headers.get("authorization") ?? "";
  const match = /^Bearer\s+(.+)$/i.exec(header.trim());
  return await secretsEqual(match?.[1]?.trim() ?? "", token) && match !== null;
}

/**
 * A running daemon's `/status`, as the commands that ask it read it.
 *
 * @module
 */

/** Whether a value of a parsed JSON body is an object (not null, not a list). */
export const isJsonObject = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === "object" && !Array.isArray(v);

/** How long a command waits for the daemon's answer, ms. */
export const DAEMON_TIMEOUT_MS = 10_000;

/**
 * What asking a daemon gave: its `/status` body; `absent` when nothing
 * accepted the connection; `failed` when something answered, but not with a
 * status (a missing token, an error, a timeout). `reason` says what happened.
 */
export type DaemonStatus =
  | { kind: "status"; body: unknown }
  | { kind: "absent"; reason: string }
  | { kind: "failed"; reason: string };

/**
 * GETs `<url>/status`, with `token` as the bearer token when set.
 *
 * @example
 * ```ts
 * const answer = await readDaemonStatus("http://127.0.0.1:9464");
 * if (answer.kind === "status") console.log(answer.body);
 * ```
 */
export async function readDaemonStatus(
  url: string,
  token?: string | undefined,
): Promise<DaemonStatus> {
  const target = new URL("status", url.endsWith("/") ? url : `${url}/`);
  let response: Response;
  try {
    response = await fetch(target, {
      headers: token ? { authorization: `Bearer ${token}` } : {},
      signal: AbortSignal.timeout(DAEMON_TIMEOUT_MS),
    });
  } catch (error) {
    if (error instanceof DOMException && error.name === "TimeoutError") {
      return { kind: "failed", reason: `no answer within ${DAEMON_TIMEOUT_MS / 1000} s` };
    }
    return { kind: "absent", reason: error instanceof Error ? error.message : String(error) };
  }
  if (response.status === 401) {
    await response.body?.cancel();
    return { kind: "failed", reason: "it needs a token: set CONSUMERD_TOKEN or pass --token" };
  }
  if (!response.ok) {
    return { kind: "failed", reason: `answered ${response.status}: ${await response.text()}` };
  }
  try {
    return { kind: "status", body: await response.json() };
  } catch (error) {
    return {
      kind: "failed",
      reason: `answered with something other than JSON: ${
        error instanceof Error ? error.message : String(error)
      }`,
    };
  }
}

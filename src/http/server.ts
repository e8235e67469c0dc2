/**
 * Starts the status server on `http.listen`, refusing a non-loopback address
 * without `http.token`.
 *
 * @module
 */
import type { HostPort } from "../config/host_port.ts";
import type { Logger } from "../log.ts";
import type { HttpServer, Runtime } from "../runtime/types.ts";
import { isLoopback } from "./auth.ts";
import { createStatusHandler, MAX_BODY_BYTES, type StatusSource } from "./handler.ts";

/** Thrown when the server must not or cannot start; the message says why and what to do. */
export class HttpConfigError extends Error {
  override name = "HttpConfigError";
}

/** Options for {@linkcode startStatusServer}. */
export interface StatusServerOptions {
  listen: HostPort;
  token: string | null;
  /** `http.allowedHosts`: names `Host` may give besides IP addresses, localhost and the listen host. */
  allowedHosts?: readonly string[];
  source: StatusSource;
  runtime: Runtime;
  logger: Logger;
  reload?: () => Promise<{ ok: boolean }>;
}

/**
 * Why `listen` with `token` must not be served, or null when it may.
 *
 * @example
 * ```ts
 * listenProblem({ host: "0.0.0.0", port: 9464 }, null); // "…refuses to listen on 0.0.0.0:9464…"
 * ```
 */
export function listenProblem(listen: HostPort, token: string | null): string | null {
  if (isLoopback(listen.host) || token !== null) return null;
  return `http.listen is ${formatListen(listen)}, which is not a loopback address: ` +
    "the status server refuses to listen there without http.token (set it, e.g. " +
    "token: ${CONSUMERD_TOKEN}), or listen on 127.0.0.1";
}

/** `host:port`, with brackets for IPv6. */
export function formatListen({ host, port }: HostPort): string {
  return host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
}

/**
 * Starts serving `/`, `/healthz`, `/readyz`, `/status`, `/metrics` and `/reload`.
 *
 * @throws {HttpConfigError} when `listen` is not loopback and there is no token,
 *   or the address cannot be listened on.
 */
export function startStatusServer(options: StatusServerOptions): HttpServer {
  const { listen, token, allowedHosts = [], source, runtime, logger, reload } = options;
  const refused = listenProblem(listen, token);
  if (refused !== null) throw new HttpConfigError(refused);
  const handler = createStatusHandler({
    source,
    token,
    hosts: { listenHost: listen.host, allowedHosts },
    logger,
    ...(reload ? { reload } : {}),
  });
  let server: HttpServer;
  try {
    server = runtime.serve({
      hostname: listen.host,
      port: listen.port,
      handler,
      maxBodyBytes: MAX_BODY_BYTES,
    });
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new HttpConfigError(
      `cannot listen on ${formatListen(listen)} (http.listen): ${reason}`,
    );
  }
  logger.info("status server listening", {
    url: `http://${formatListen({ host: listen.host, port: server.port })}/`,
    token: token === null ? "none" : "required",
  });
  return server;
}

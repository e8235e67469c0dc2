/**
 * The status server's request handler on the Web-standard `Request` /
 * `Response` API, so that it runs unchanged under `Deno.serve` and
 * `Bun.serve`: routes, methods, `Host` and `Origin`, the bearer token and
 * body limits.
 *
 * @module
 */
import type { Logger } from "../log.ts";
import type { ConsumerReport } from "../supervisor/report.ts";
import { hasBearerToken } from "./auth.ts";
import type { ConfigInfo } from "./config_info.ts";
import { DASHBOARD_HTML } from "./dashboard.ts";
import { EXPOSITION_CONTENT_TYPE } from "./exposition.ts";
import { hostProblem, type HostRules } from "./host_check.ts";
import { renderMetrics } from "./metrics.ts";
import { crossOriginProblem } from "./origin_check.ts";
import { coalesceReloads } from "./reload_gate.ts";
import { readiness, statusBody } from "./status_body.ts";

/** Largest request body accepted, bytes (only `POST /reload` takes one). */
export const MAX_BODY_BYTES = 64 * 1024;
/** How long a request body may take to arrive, ms. */
export const BODY_TIMEOUT_MS = 10_000;

/** What the handler reads from the daemon. */
export interface StatusSource {
  /** Each consumer's status and counters. */
  reports(): ConsumerReport[];
  /** Whether the supervisor's control loop runs. */
  alive(): boolean;
  config(): ConfigInfo;
}

/** Options for {@linkcode createStatusHandler}. */
export interface StatusHandlerOptions {
  source: StatusSource;
  /** When set, every request but /healthz and /readyz must carry it as a bearer token. */
  token: string | null;
  /**
   * The names `Host` may give besides IP literals and `localhost`
   * (see {@linkcode hostProblem}); default: none.
   */
  hosts?: HostRules;
  /**
   * Reloads the config (`POST /reload`) and returns its outcome; without it
   * the route answers 501. Requests share reloads (see {@linkcode coalesceReloads}).
   */
  reload?: () => Promise<{ ok: boolean }>;
  logger?: Logger;
  maxBodyBytes?: number;
  bodyTimeoutMs?: number;
}

/** A request handler. */
export type RequestHandler = (request: Request) => Promise<Response>;

const JSON_HEADERS = { "content-type": "application/json; charset=utf-8" };
const NO_STORE = { "cache-control": "no-store" };

function json(body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(`${JSON.stringify(body, null, 2)}\n`, {
    status,
    headers: { ...JSON_HEADERS, ...NO_STORE, ...headers },
  });
}

function problem(status: number, error: string, headers: Record<string, string> = {}): Response {
  return json({ error }, status, headers);
}

interface Route {
  methods: readonly string[];
  /** Answers without the token. */
  open: boolean;
  run(request: Request): Promise<Response> | Response;
}

/**
 * Reads a request body up to `limit` bytes within `timeoutMs`: the bytes,
 * or the status code to answer (413 too large, 408 too slow).
 */
export async function readBody(
  request: Request,
  { limit, timeoutMs }: { limit: number; timeoutMs: number },
): Promise<Uint8Array | 413 | 408> {
  if (request.body === null) return new Uint8Array();
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<"late">((r) => (timer = setTimeout(() => r("late"), timeoutMs)));
  try {
    while (true) {
      const next = await Promise.race([reader.read(), late]);
      if (next === "late") return 408;
      if (next.done) break;
      size += next.value.byteLength;
      if (size > limit) return 413;
      chunks.push(next.value);
    }
  } finally {
    clearTimeout(timer);
    reader.cancel().catch(() => {});
  }
  const body = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    body.set(c, at);
    at += c.byteLength;
  }
  return body;
}

/**
 * Creates the handler for `/`, `/healthz`, `/readyz`, `/status`, `/metrics`
 * and `POST /reload`. Every request must name this server in `Host` (else
 * 421); a `POST` must not come from another origin (else 403).
 *
 * @example
 * ```ts
 * const handler = createStatusHandler({ source, token: null });
 * const response = await handler(new Request("http://127.0.0.1:9464/status"));
 * ```
 */
export function createStatusHandler(options: StatusHandlerOptions): RequestHandler {
  const {
    source,
    token,
    hosts = { listenHost: "localhost", allowedHosts: [] },
    logger,
    maxBodyBytes = MAX_BODY_BYTES,
    bodyTimeoutMs = BODY_TIMEOUT_MS,
  } = options;
  const reload = options.reload && coalesceReloads(options.reload);
  const routes: Record<string, Route> = {
    "/healthz": {
      methods: ["GET", "HEAD"],
      open: true,
      run: () =>
        source.alive()
          ? json({ ok: true })
          : problem(503, "the supervisor's control loop has stopped running"),
    },
    "/readyz": {
      methods: ["GET", "HEAD"],
      open: true,
      // The reasons in full only with the token: without it, short codes.
      run: async (request) => {
        const detail = token !== null && await hasBearerToken(request, token);
        const body = readiness(source.reports(), { detail });
        return json(body, body.ready ? 200 : 503);
      },
    },
    "/status": {
      methods: ["GET", "HEAD"],
      open: false,
      run: () => json(statusBody(source.reports(), source.config())),
    },
    "/metrics": {
      methods: ["GET", "HEAD"],
      open: false,
      run: () =>
        new Response(renderMetrics(source.reports(), source.config()), {
          headers: { "content-type": EXPOSITION_CONTENT_TYPE, ...NO_STORE },
        }),
    },
    "/": {
      methods: ["GET", "HEAD"],
      open: false,
      run: () =>
        new Response(DASHBOARD_HTML, {
          headers: {
            "content-type": "text/html; charset=utf-8",
            "content-security-policy":
              "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; " +
              "connect-src 'self'; img-src 'self' data:",
            ...NO_STORE,
          },
        }),
    },
    "/reload": {
      methods: ["POST"],
      open: false,
      run: async (request) => {
        const body = await readBody(request, { limit: maxBodyBytes, timeoutMs: bodyTimeoutMs });
        if (body === 413) return tooLarge(maxBodyBytes);
        if (body === 408) return problem(408, "the request body did not arrive in time");
        if (reload === undefined) {
          return problem(
            501,
            "reloading through HTTP is not available in this version; send SIGHUP or restart the daemon",
          );
        }
        const outcome = await reload();
        return json(outcome, outcome.ok ? 200 : 422);
      },
    },
  };

  const answer = async (request: Request, url: URL): Promise<Response> => {
    const length = request.headers.get("content-length");
    if (length !== null && Number(length) > maxBodyBytes) return tooLarge(maxBodyBytes);
    const misdirected = hostProblem(request.headers.get("host"), hosts);
    if (misdirected !== null) return problem(421, misdirected);
    if (request.method !== "GET" && request.method !== "HEAD") {
      const forbidden = crossOriginProblem(request.headers);
      if (forbidden !== null) return problem(403, forbidden);
    }
    const route = Object.hasOwn(routes, url.pathname) ? routes[url.pathname] : undefined;
    if (token !== null && !route?.open && !await hasBearerToken(request, token)) {
      return problem(401, "this server needs Authorization: Bearer <http.token>", {
        "www-authenticate": 'Bearer realm="consumerd"',
      });
    }
    if (route === undefined) return problem(404, `no such path: ${url.pathname}`);
    if (!route.methods.includes(request.method)) {
      return problem(405, `${request.method} is not allowed on ${url.pathname}`, {
        allow: route.methods.join(", "),
      });
    }
    const response = await route.run(request);
    return request.method === "HEAD"
      ? new Response(null, { status: response.status, headers: response.headers })
      : response;
  };

  // Nothing a request does may escape as an exception: Bun answers one with a development
  // page that shows the daemon's source lines and paths.
  return async (request) => {
    let path = "?";
    try {
      // Bun gives a request without Host a URL of only its path.
      const url = new URL(request.url, "http://localhost");
      path = url.pathname;
      return await answer(request, url);
    } catch (error) {
      logger?.error("status server request failed", {
        path,
        error: error instanceof Error ? error.message : String(error),
      });
      return problem(500, "internal error; see the daemon's log");
    }
  };
}

function tooLarge(limit: number): Response {
  return problem(413, `request bodies are limited to ${limit} bytes`, { connection: "close" });
}

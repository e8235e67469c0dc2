/**
 * Cross-origin requests that change something: a web page on another origin
 * can make a browser POST to the status server (a form needs no preflight),
 * and `POST /reload` spawns a probe worker per handler. Such a request is
 * refused when the browser says where it came from: `Origin` other than the
 * server's own, or `Sec-Fetch-Site` other than `same-origin` or `none`
 * (typed in, a bookmark). Clients that are not browsers send neither and
 * pass; the token, when set, still applies to them.
 *
 * @module
 */

/**
 * Why a state-changing request must be refused (403), or null when it may
 * be served. The server's own origin is the request's `Host` under `http://`
 * (or `https://`, behind a proxy that terminates TLS and passes `Host` on).
 *
 * @example
 * ```ts
 * const headers = new Headers({ host: "127.0.0.1:9464", origin: "http://evil.example" });
 * crossOriginProblem(headers); // "a request from http://evil.example …"
 * ```
 */
export function crossOriginProblem(headers: Headers): string | null {
  const site = headers.get("sec-fetch-site")?.trim().toLowerCase();
  if (site !== undefined && site !== "same-origin" && site !== "none") {
    return `a ${site} request (Sec-Fetch-Site) may not change anything here; ` +
      "send it from the dashboard's own page or from a client that is not a browser";
  }
  const origin = headers.get("origin");
  if (origin === null) return null;
  const host = headers.get("host")?.trim().toLowerCase();
  const from = origin.trim().toLowerCase();
  if (host !== undefined && (from === `http://${host}` || from === `https://${host}`)) return null;
  return `a request from ${origin} (Origin) may not change anything here, ` +
    `which is ${host === undefined ? "another origin" : `http://${host}`}; send it from the ` +
    "dashboard's own page or from a client that is not a browser";
}

/**
 * Which `Host` a request to the status server may name: the defence against
 * DNS rebinding, where a web page on a name its author controls points that
 * name at 127.0.0.1 and reads the server as its own origin.
 *
 * A browser names in `Host` what it connected to, and only a name can be
 * rebound. So any IP-address literal passes (the kubelet's probes name the
 * pod's IP, a port mapping or Service the address it went through), as do
 * `localhost`, the host `http.listen` names and the names in
 * `http.allowedHosts`. The port is not compared: a rebound page must use the
 * server's own port, while a port-forward (`kubectl port-forward`,
 * `ssh -L`) legitimately changes it.
 *
 * @module
 */

/** The names a server accepts besides IP literals and `localhost`. */
export interface HostRules {
  /** The host of `http.listen`. */
  listenHost: string;
  /** `http.allowedHosts`: further names the server is reached by. */
  allowedHosts: readonly string[];
}

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
const IPV6 = /^[0-9a-f:.]*:[0-9a-f:.]*$/;
const NAME = /^[a-z0-9_]([a-z0-9_.-]*[a-z0-9_])?$/;

/**
 * The host name of a `Host` header value, lowercased, without port, brackets
 * or a trailing dot; null when the value is not `name[:port]` or
 * `[ipv6][:port]`.
 *
 * @example
 * ```ts
 * hostName("LocalHost.:9464"); // "localhost"
 * hostName("[::1]:9464"); // "::1"
 * hostName("a@b"); // null
 * ```
 */
export function hostName(header: string): string | null {
  const value = header.trim().toLowerCase();
  const bracketed = /^\[([^\]]+)\](?::(\d{1,5}))?$/.exec(value);
  if (bracketed) return IPV6.test(bracketed[1]!) ? bracketed[1]! : null;
  const plain = /^([^:]+)(?::(\d{1,5}))?$/.exec(value);
  if (!plain) return null;
  const name = plain[1]!.endsWith(".") ? plain[1]!.slice(0, -1) : plain[1]!;
  return NAME.test(name) ? name : null;
}

/** Whether `name` (as {@linkcode hostName} returns it) is an IPv4 or IPv6 address. */
export function isIpLiteral(name: string): boolean {
  return IPV4.test(name) || (name.includes(":") && IPV6.test(name));
}

/**
 * Why a request with this `Host` header must be refused (421), or null when
 * it may be served. A request without `Host` (HTTP/1.0, not a browser) passes.
 *
 * @example
 * ```ts
 * const rules = { listenHost: "127.0.0.1", allowedHosts: [] };
 * hostProblem("localhost:9464", rules); // null
 * hostProblem("evil.example:9464", rules); // "Host evil.example is not …"
 * ```
 */
export function hostProblem(header: string | null, rules: HostRules): string | null {
  if (header === null) return null;
  const name = hostName(header);
  if (name !== null && allowedName(name, rules)) return null;
  const shown = name ?? JSON.stringify(header);
  return `Host ${shown} is not a name of this server (a page on another site may be trying ` +
    `to reach it through DNS rebinding); if you reach consumerd by this name, add ${shown} ` +
    "to http.allowedHosts";
}

function allowedName(name: string, { listenHost, allowedHosts }: HostRules): boolean {
  if (isIpLiteral(name) || name === "localhost") return true;
  const listen = listenHost.toLowerCase().replace(/\.$/, "");
  return name === listen || allowedHosts.includes(name);
}

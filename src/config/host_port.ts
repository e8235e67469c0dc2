/**
 * Parsing of `host:port` addresses (broker addresses and `http.listen`).
 *
 * @module
 */

/** A parsed `host:port` address. IPv6 hosts are given without brackets. */
export interface HostPort {
  host: string;
  port: number;
}

/** Options for {@linkcode parseHostPort}. */
export interface ParseHostPortOptions {
  /** Accept port 0 (let the operating system choose). Default `false`. */
  allowPortZero?: boolean;
}

const HOSTNAME = /^(?=.{1,253}$)[A-Za-z0-9_](?:[A-Za-z0-9_.-]*[A-Za-z0-9_])?$/;
const IPV6 = /^[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*(?:%[A-Za-z0-9_.-]+)?$/;

/**
 * Parses `host:port` (or `[ipv6]:port`). Returns the address, or a string
 * saying what is wrong with it.
 *
 * @example
 * ```ts
 * parseHostPort("127.0.0.1:9092"); // { host: "127.0.0.1", port: 9092 }
 * parseHostPort("[::1]:9464"); // { host: "::1", port: 9464 }
 * parseHostPort("localhost"); // "the port is missing"
 * ```
 */
export function parseHostPort(
  text: string,
  { allowPortZero = false }: ParseHostPortOptions = {},
): HostPort | string {
  let host: string;
  let portText: string;
  if (text.startsWith("[")) {
    const close = text.indexOf("]");
    if (close < 0) return "the IPv6 address has no closing ]";
    host = text.slice(1, close);
    const rest = text.slice(close + 1);
    if (rest === "") return "the port is missing";
    if (!rest.startsWith(":")) return "expected :port after the ]";
    portText = rest.slice(1);
    if (!IPV6.test(host)) return `${JSON.stringify(host)} is not an IPv6 address`;
  } else {
    const colon = text.lastIndexOf(":");
    if (colon < 0) return "the port is missing";
    host = text.slice(0, colon);
    portText = text.slice(colon + 1);
    if (host === "") return "the host is missing";
    if (host.includes(":")) return "an IPv6 host must be written in brackets, as [::1]:port";
    if (!HOSTNAME.test(host)) return `${JSON.stringify(host)} is not a host name or IP address`;
  }
  if (portText === "") return "the port is missing";
  if (!/^[0-9]{1,5}$/.test(portText)) return `the port ${JSON.stringify(portText)} is not a number`;
  const port = Number(portText);
  const min = allowPortZero ? 0 : 1;
  if (port < min || port > 65535) return `the port ${port} is outside ${min}-65535`;
  return { host, port };
}

/**
 * The daemon's status server in tests: start a daemon with the server on a
 * free port, find its address in the log, read its endpoints; and the
 * external programs (Prometheus, Chromium) the operations tests drive.
 *
 * @module
 */
import { type DaemonProcess, type DaemonRuntime, startDaemon, writeConfig } from "./daemon.ts";
import { stringify } from "yaml";
import { BROKERS } from "./kafka.ts";
import type { StatusBody } from "../../src/http/status_body.ts";

/** A daemon with its status server's base URL (ending in `/`). */
export interface HttpDaemon {
  daemon: DaemonProcess;
  url: string;
}

/** Options for {@linkcode startHttpDaemon}. */
export interface HttpDaemonOptions {
  runtime?: DaemonRuntime;
  /** The `http:` section; default `{ listen: "127.0.0.1:0" }` (a free port). */
  http?: Record<string, unknown>;
  brokers?: string[];
  /** More of the `kafka:` section (ssl, sasl, engine). */
  kafka?: Record<string, unknown>;
  env?: Record<string, string>;
}

/** Writes a config for these consumers, starts the daemon and waits for its status server. */
export async function startHttpDaemon(
  consumers: Array<Record<string, unknown>>,
  { runtime = "deno", http = { listen: "127.0.0.1:0" }, brokers = BROKERS, kafka = {}, env = {} }:
    HttpDaemonOptions = {},
): Promise<HttpDaemon> {
  const config = await writeConfig({ kafka: { brokers, ...kafka }, http, consumers });
  const daemon = startDaemon(config, { runtime, env });
  const listening = await daemon.waitForLog("status server listening", { timeoutMs: 60_000 });
  return { daemon, url: String(listening.url) };
}

/**
 * Rewrites the config file of a daemon from {@linkcode startHttpDaemon}
 * with these consumers (same brokers, a free port again) and asks it to
 * reload: the answer's status and outcome.
 */
export async function reloadConsumers(
  { daemon, url }: HttpDaemon,
  consumers: Array<Record<string, unknown>>,
): Promise<{ status: number; outcome: Record<string, unknown> }> {
  const path = String((await daemon.waitForLog("starting")).config);
  await Deno.writeTextFile(
    path,
    stringify({ kafka: { brokers: BROKERS }, http: { listen: "127.0.0.1:0" }, consumers }),
  );
  const response = await fetch(new URL("reload", url), { method: "POST" });
  return { status: response.status, outcome: await response.json() };
}

/** GETs `path` and parses the JSON body; returns status and body. */
export async function getJson<T = Record<string, unknown>>(
  url: string,
  path: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: T }> {
  const response = await fetch(new URL(path, url), { headers });
  return { status: response.status, body: await response.json() as T };
}

/** The `/status` document, as the daemon declares it. */
export type StatusDoc = StatusBody;

/** `/status`, parsed. */
export async function getStatus(url: string): Promise<StatusDoc> {
  const { status, body } = await getJson<StatusDoc>(url, "status");
  if (status !== 200) throw new Error(`/status answered ${status}`);
  return body;
}

/** `/metrics` as text. */
export async function getMetrics(url: string): Promise<string> {
  const response = await fetch(new URL("metrics", url));
  if (response.status !== 200) throw new Error(`/metrics answered ${response.status}`);
  return await response.text();
}

/** Samples of a metric in Prometheus text: labels (as an object) and value. */
export function samples(
  text: string,
  name: string,
): Array<{ labels: Record<string, string>; value: string }> {
  const out: Array<{ labels: Record<string, string>; value: string }> = [];
  for (const line of text.split("\n")) {
    const m = /^([a-zA-Z_:][\w:]*)(\{(.*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[3] ?? "").matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]!] = l[2]!;
    out.push({ labels, value: m[4]! });
  }
  return out;
}

/** Asserts that `promtool check metrics` accepts `text` without a lint finding. */
export async function assertPromtoolAccepts(text: string): Promise<void> {
  const promtool = await requireProgram("promtool", "prometheus");
  const check = new Deno.Command(promtool, {
    args: ["check", "metrics"],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = check.stdin.getWriter();
  await writer.write(new TextEncoder().encode(text));
  await writer.close();
  const result = await check.output();
  const report = new TextDecoder().decode(result.stdout) + new TextDecoder().decode(result.stderr);
  if (result.code !== 0) {
    throw new Error(`promtool check metrics failed:\n${report}\n---\n${text}`);
  }
  if (report.trim() !== "") throw new Error(`promtool has lint findings:\n${report}`);
}

/**
 * The path of an external program the tests need, or a clear error: these
 * tests do not skip when the program is missing, because CI installs it.
 */
export async function requireProgram(name: string, debianPackage: string): Promise<string> {
  for (const dir of (Deno.env.get("PATH") ?? "/usr/bin:/bin").split(":")) {
    const path = `${dir}/${name}`;
    try {
      const info = await Deno.stat(path);
      if (info.isFile) return path;
    } catch { /* not here */ }
  }
  throw new Error(
    `${name} is not installed: this test needs Debian's ${debianPackage} package ` +
      `(apt-get install -y ${debianPackage}); .ci/run installs it`,
  );
}

/** A free TCP port on 127.0.0.1. */
export function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}

/** A response read off the wire by {@linkcode rawRequest}. */
export interface RawResponse {
  status: number;
  headers: Headers;
  body: string;
}

/**
 * Sends one HTTP/1.1 request over its own connection, with the headers
 * exactly as given — `Host` included, which `fetch()` would replace — and
 * reads the answer until the server closes.
 */
export async function rawRequest(
  url: string,
  { method = "GET", path = "/", headers = {}, version = "1.1" }: {
    method?: string;
    path?: string;
    headers?: Record<string, string>;
    /** "1.0" allows a request without `Host`. */
    version?: "1.0" | "1.1";
  } = {},
): Promise<RawResponse> {
  const { hostname, port } = new URL(url);
  const conn = await Deno.connect({
    hostname: hostname.replace(/^\[|\]$/g, ""),
    port: Number(port),
  });
  try {
    const lines = [`${method} ${path} HTTP/${version}`, "connection: close", "content-length: 0"];
    for (const [name, value] of Object.entries(headers)) lines.push(`${name}: ${value}`);
    await conn.write(new TextEncoder().encode(`${lines.join("\r\n")}\r\n\r\n`));
    const text = await new Response(conn.readable).text();
    const split = text.indexOf("\r\n\r\n");
    const [statusLine = "", ...headerLines] = text.slice(0, split).split("\r\n");
    const parsed = new Headers(
      headerLines.map((l) => [l.slice(0, l.indexOf(":")), l.slice(l.indexOf(":") + 1).trim()]),
    );
    let body = text.slice(split + 4);
    if (parsed.get("transfer-encoding") === "chunked") body = unchunk(body);
    return { status: Number(statusLine.split(" ")[1]), headers: parsed, body };
  } finally {
    try {
      conn.close();
    } catch { /* closed by reading it to the end */ }
  }
}

function unchunk(text: string): string {
  let out = "";
  let at = 0;
  while (at < text.length) {
    const eol = text.indexOf("\r\n", at);
    const size = parseInt(text.slice(at, eol), 16);
    if (!(size > 0)) break;
    out += text.slice(eol + 2, eol + 2 + size);
    at = eol + 2 + size + 2;
  }
  return out;
}

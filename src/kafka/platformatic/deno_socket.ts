/**
 * @platformatic/kafka's plaintext broker connections over Deno's own TCP
 * (`Deno.connect`) instead of `node:net`, in the worker bundle
 * (scripts/build.ts points the library's `node:net` and `node:tls` imports
 * at `src/worker/platformatic_net.ts`, which re-exports this).
 *
 * The library's `Connection` uses a small part of a `net.Socket`:
 * `setNoDelay`, `setTimeout` (its connect timeout, then 0), `write` (whose
 * result is its back-pressure signal), `end`, `destroy`, `destroySoon`, the
 * events `connect`, `data`, `drain`, `timeout`, `error` and
 * `close`, and the emitter's `once`/`removeListener`/`removeAllListeners`.
 * This gives it exactly that, with node's order: an error is followed by
 * one `close`; a peer that closes gives `end` then `close`; `end()` closes
 * after the writes already made.
 *
 * TLS connections keep `node:tls` ({@linkcode connect}); off Deno (Bun)
 * both functions are node's own, loaded when first called.
 *
 * @module
 */
import { Buffer } from "node:buffer";
import { EventEmitter } from "node:events";
import { errorCode, READ_BYTES } from "../kafkajs/deno_socket.ts";

/** What the library passes to `net.createConnection`. */
export interface ConnectOptions {
  host: string;
  port: number;
  /** Idle time before `timeout` is emitted, ms (the library's connect timeout). */
  timeout?: number;
}

/** What the library passes to `tls.connect` besides port and host: its `tls` options, `timeout`, `servername`. */
export type TlsConnectOptions = Record<string, unknown> & { timeout?: number };

/** Bytes queued for writing above which `write()` returns false (node's default high-water mark). */
export const HIGH_WATER_MARK = 16 * 1024;

/** A `net.Socket` stand-in for the library's Connection. */
export interface LibrarySocket extends EventEmitter {
  setNoDelay(noDelay?: boolean): this;
  setTimeout(ms: number): this;
  write(data: Uint8Array): boolean;
  end(): this;
  destroySoon(): void;
  destroy(error?: Error): this;
}

/**
 * `net.createConnection({ host, port, timeout })`: on Deno a socket over
 * `Deno.connect`, elsewhere node's.
 *
 * @example
 * ```ts ignore
 * const socket = createConnection({ host: "127.0.0.1", port: 9092, timeout: 3000 });
 * socket.once("connect", () => socket.write(request));
 * ```
 */
export function createConnection(options: ConnectOptions): LibrarySocket {
  if (!onDeno()) return nodeModule<NodeNet>("net").createConnection(options);
  return new DenoSocket(options);
}

/**
 * `tls.connect(port, host, options)`: node's, loaded on first use. TLS
 * stays on node:tls, as kafkajs's does on Deno: Deno's own TLS reports a
 * certificate it rejects without node's error codes, which the operator's
 * messages name (src/kafka/operator_error.ts), and takes none of node's
 * options besides the CA list.
 */
export function connect(port: number, host: string, options: TlsConnectOptions): LibrarySocket {
  return nodeModule<NodeTls>("tls").connect(port, host, options);
}

class DenoSocket extends EventEmitter implements LibrarySocket {
  #conn: Deno.TcpConn | null = null;
  /** destroy() ran, or the connection ended: nothing more is emitted but `close`, once. */
  #destroyed = false;
  /** end() was called: no more writes are accepted. */
  #ending = false;
  /** Bytes handed to write() and not yet written. */
  #queued = 0;
  /** write() returned false: `drain` is due when the queue empties. */
  #needDrain = false;
  #writes: Promise<void>;
  #timeoutMs = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #activity = 0;

  constructor({ host, port, timeout = 0 }: ConnectOptions) {
    super();
    this.setTimeout(timeout);
    const opened = Deno.connect({ hostname: host, port }).then((conn) => {
      if (this.#destroyed) {
        closeQuietly(conn);
        return null;
      }
      this.#conn = conn;
      conn.setNoDelay(true);
      this.#touch();
      this.emit("connect");
      return conn;
    });
    this.#writes = opened.then(() => {}, () => {}); // a failed connect is reported below
    opened.then((conn) => conn && this.#read(conn), (error) => this.destroy(withCode(error)));
  }

  setNoDelay(): this {
    return this; // set on connect
  }

  setTimeout(ms: number): this {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#timeoutMs = ms;
    if (ms > 0 && !this.#destroyed) {
      this.#activity = performance.now();
      this.#armTimer(ms);
    }
    return this;
  }

  write(data: Uint8Array): boolean {
    if (this.#destroyed || this.#ending) return false;
    this.#queued += data.byteLength;
    this.#writes = this.#writes.then(async () => {
      const conn = this.#conn;
      if (conn === null || this.#destroyed) return;
      for (let at = 0; at < data.byteLength;) at += await conn.write(data.subarray(at));
      this.#touch();
      this.#queued -= data.byteLength;
      if (this.#queued === 0 && this.#needDrain) {
        this.#needDrain = false;
        this.emit("drain");
      }
    }).catch((error) => {
      this.destroy(withCode(error));
    });
    if (this.#queued < HIGH_WATER_MARK) return true;
    this.#needDrain = true;
    return false;
  }

  end(): this {
    if (this.#ending || this.#destroyed) return this;
    this.#ending = true;
    // node's end() sends what was written first; the library never reads after ending.
    this.#writes.finally(() => this.destroy());
    return this;
  }

  destroySoon(): void {
    this.end();
  }

  destroy(error?: Error): this {
    if (this.#destroyed) return this;
    this.#destroyed = true;
    clearTimeout(this.#timer);
    if (this.#conn !== null) closeQuietly(this.#conn);
    // node reports both on the next tick, the error first.
    queueMicrotask(() => {
      if (error !== undefined) this.emit("error", error);
      this.emit("close", error !== undefined);
    });
    return this;
  }

  async #read(conn: Deno.TcpConn): Promise<void> {
    const scratch = new Uint8Array(READ_BYTES);
    try {
      while (!this.#destroyed) {
        const n = await conn.read(scratch);
        if (this.#destroyed) return;
        if (n === null) {
          this.emit("end");
          this.destroy();
          return;
        }
        this.#touch();
        // The library keeps each chunk until its response is complete: a copy of its own.
        this.emit("data", Buffer.from(scratch.subarray(0, n)));
      }
    } catch (error) {
      if (!this.#destroyed) this.destroy(withCode(error));
    }
  }

  #touch(): void {
    if (this.#timeoutMs > 0) this.#activity = performance.now();
  }

  #armTimer(ms: number): void {
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      if (this.#destroyed || this.#timeoutMs === 0) return;
      const idle = performance.now() - this.#activity;
      if (idle < this.#timeoutMs) return this.#armTimer(this.#timeoutMs - idle);
      this.emit("timeout");
    }, ms);
  }
}

function onDeno(): boolean {
  return "Deno" in globalThis && typeof Deno.connect === "function";
}

function closeQuietly(conn: Deno.Conn): void {
  try {
    conn.close();
  } catch {
    // Already closed.
  }
}

/** The error as node would report it: an Error with node's `code` (ECONNREFUSED, ENOTFOUND, …). */
function withCode(error: unknown): Error {
  const failure = error instanceof Error ? error : new Error(String(error));
  const code = errorCode(failure);
  if (code !== undefined && (failure as { code?: unknown }).code === undefined) {
    Object.assign(failure, { code });
  }
  return failure;
}

interface NodeNet {
  createConnection(options: ConnectOptions): LibrarySocket;
}
interface NodeTls {
  connect(port: number, host: string, options: TlsConnectOptions): LibrarySocket;
}

/** A built-in node module, loaded when first asked for (Bun, and TLS). */
function nodeModule<T>(name: "net" | "tls"): T {
  const process = (globalThis as { process?: { getBuiltinModule?(id: string): unknown } }).process;
  const mod = process?.getBuiltinModule?.(`node:${name}`);
  if (mod === undefined) throw new Error(`no built-in module "node:${name}" in this runtime`);
  return mod as T;
}

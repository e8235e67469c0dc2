/**
 * kafkajs's broker connections over `Deno.connect` instead of `node:net`.
 *
 * On Deno, `node:net` (with the stream, process and timer layers it loads)
 * costs each worker isolate ~50 ms of CPU and ~2 MiB to load, more than
 * kafkajs itself. kafkajs needs little of a socket: `on("data" | "end" |
 * "error" | "timeout")`, `write`, `end`, `unref` and `setKeepAlive`; this
 * gives it exactly that over a Deno TCP connection. Plaintext only: TLS
 * connections keep kafkajs's own factory (`node:tls`).
 *
 * As with node:net, a connection reports its end or its first error once,
 * and `end()` closes it after the writes already made. One difference:
 * Deno's keepalive uses the system's idle time (Linux: 2 h) where kafkajs
 * asks node:net for 60 s; kafkajs's request timeout (30 s) still notices a
 * broker that vanished while a request waits.
 *
 * @module
 */

/** What kafkajs's socket factory is called with (its `ISocketFactory`). */
export interface SocketRequest {
  host: string;
  port: number;
  onConnect: () => void;
}

/** The part of a `net.Socket` kafkajs uses. */
export interface KafkaSocket {
  on(event: "data", listener: (data: Uint8Array) => void): KafkaSocket;
  on(event: "end" | "timeout", listener: () => void): KafkaSocket;
  on(event: "error", listener: (error: Error) => void): KafkaSocket;
  write(data: Uint8Array, encoding?: string): boolean;
  end(): void;
  unref(): void;
  setKeepAlive(enable?: boolean, delayMs?: number): KafkaSocket;
}

/** A `Buffer`-like copy of bytes: kafkajs decodes what arrives with Buffer methods. */
export type CopyBytes = (bytes: Uint8Array) => Uint8Array;

/** Bytes asked of the connection per read (what node:net reads at a time). */
export const READ_BYTES = 64 * 1024;

/** Node's error code for a Deno connection error, so that operator messages stay the same. */
export function errorCode(error: unknown): string | undefined {
  if (!(error instanceof Error)) return undefined;
  const code = (error as { code?: unknown }).code;
  if (typeof code === "string") return code;
  if (!/failed to lookup address/i.test(error.message)) return undefined;
  // getaddrinfo's EAI_AGAIN: the resolver could not answer now; anything else: no such host.
  return /temporary failure/i.test(error.message) ? "EAI_AGAIN" : "ENOTFOUND";
}

/**
 * A kafkajs socket factory over `Deno.connect`; `copy` turns each chunk
 * read into the `Buffer` kafkajs keeps (it holds on to chunks until a whole
 * response arrived, so each must be its own copy).
 *
 * @example
 * ```ts
 * import { Buffer } from "node:buffer";
 * new Kafka({ brokers, socketFactory: denoSocketFactory((b) => Buffer.from(b)) });
 * ```
 */
export function denoSocketFactory(copy: CopyBytes): (request: SocketRequest) => KafkaSocket {
  return (request) => new DenoSocket(request, copy);
}

class DenoSocket implements KafkaSocket {
  readonly #copy: CopyBytes;
  #conn: Deno.TcpConn | null = null;
  /** end() was called: nothing is emitted and no write accepted any more. */
  #closed = false;
  /** 'end' or 'error' was emitted: the connection is over for kafkajs. */
  #over = false;
  #unref = false;
  /** Writes run one after another, each in full. */
  #writes: Promise<void> = Promise.resolve();
  readonly #listeners = {
    data: [] as Array<(data: Uint8Array) => void>,
    end: [] as Array<() => void>,
    error: [] as Array<(error: Error) => void>,
  };

  constructor({ host, port, onConnect }: SocketRequest, copy: CopyBytes) {
    this.#copy = copy;
    const connected = Deno.connect({ hostname: host, port }).then((conn) => {
      if (this.#closed) {
        conn.close();
        return null;
      }
      this.#conn = conn;
      conn.setNoDelay(true);
      conn.setKeepAlive(true);
      if (this.#unref) conn.unref();
      onConnect();
      return conn;
    });
    this.#writes = connected.then(() => {}, () => {}); // a failed connect is reported below
    connected.then((conn) => conn && this.#read(conn), (error) => this.#fail(error));
  }

  on(event: "data" | "end" | "error" | "timeout", listener: never): KafkaSocket {
    // A Deno connection has no idle timeout: "timeout" never fires.
    if (event !== "timeout") (this.#listeners[event] as unknown[]).push(listener);
    return this;
  }

  write(data: Uint8Array): boolean {
    if (this.#closed) return false;
    // Runs even if end() comes before its turn: end() closes after the writes made before it.
    this.#writes = this.#writes.then(async () => {
      const conn = this.#conn;
      if (conn === null || this.#over) return;
      for (let at = 0; at < data.byteLength;) at += await conn.write(data.subarray(at));
    }).catch((error) => this.#fail(error));
    return true;
  }

  end(): void {
    if (this.#closed) return;
    this.#closed = true;
    const conn = this.#conn;
    // Let writes already queued go out first, as node's end() does.
    this.#writes.finally(() => {
      try {
        conn?.close();
      } catch {
        // Already closed by the peer.
      }
    });
  }

  unref(): void {
    this.#unref = true;
    this.#conn?.unref();
  }

  setKeepAlive(): KafkaSocket {
    return this; // set on connect
  }

  async #read(conn: Deno.TcpConn): Promise<void> {
    const scratch = new Uint8Array(READ_BYTES);
    try {
      while (!this.#closed) {
        const n = await conn.read(scratch);
        if (this.#closed || this.#over) return;
        if (n === null) {
          this.#over = true;
          for (const listener of this.#listeners.end) listener();
          return;
        }
        const chunk = this.#copy(scratch.subarray(0, n));
        for (const listener of this.#listeners.data) listener(chunk);
      }
    } catch (error) {
      this.#fail(error);
    }
  }

  #fail(error: unknown): void {
    if (this.#closed || this.#over) return;
    this.#over = true;
    const failure = error instanceof Error ? error : new Error(String(error));
    const code = errorCode(failure);
    if (code !== undefined && (failure as { code?: unknown }).code === undefined) {
      Object.assign(failure, { code });
    }
    for (const listener of this.#listeners.error) listener(failure);
  }
}

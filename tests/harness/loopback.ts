/**
 * Loopback TCP servers for the socket adapters' tests (tests/integration/deno_socket_test.ts,
 * platformatic_socket_test.ts): a listener that is closed after the test, and a peer's read of
 * everything until the connection ends.
 *
 * @module
 */

/**
 * Runs `body` with a TCP listener on a free loopback port, closed afterwards.
 *
 * @example
 * ```ts
 * await withLoopbackServer(async (server) => {
 *   const peer = server.accept();
 *   await Deno.connect({ hostname: "127.0.0.1", port: server.addr.port });
 * });
 * ```
 */
export async function withLoopbackServer(
  body: (server: Deno.TcpListener) => Promise<void>,
): Promise<void> {
  const server = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  try {
    await body(server);
  } finally {
    server.close();
  }
}

/** Every byte `conn` reads until its peer ends the connection, in one array. */
export async function readAll(conn: Deno.Conn): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of conn.readable) chunks.push(chunk);
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.byteLength, 0));
  let at = 0;
  for (const c of chunks) out.set(c, (at += c.byteLength) - c.byteLength);
  return out;
}

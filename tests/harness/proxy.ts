/**
 * A TCP proxy on a loopback port, for tests that need a broker address that
 * is down at first and up later (or the other way round).
 *
 * @module
 */

/** A running proxy. */
export interface TcpProxy {
  readonly port: number;
  /** Connections accepted so far. */
  readonly accepted: number;
  /** Stops listening and cuts every connection. */
  close(): void;
}

/** A free loopback port (taken and released at once). */
export function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}

/** Forwards every connection to `127.0.0.1:port` on to `target` (`host:port`). */
export function startProxy(port: number, target: string): TcpProxy {
  const [hostname, targetPort] = target.split(":");
  const listener = Deno.listen({ hostname: "127.0.0.1", port });
  const open = new Set<Deno.Conn>();
  let accepted = 0;
  (async () => {
    for await (const client of listener) {
      accepted++;
      open.add(client);
      Deno.connect({ hostname: hostname!, port: Number(targetPort) }).then((server) => {
        open.add(server);
        const cut = () => closeConns([client, server], open);
        client.readable.pipeTo(server.writable).catch(() => {}).finally(cut);
        server.readable.pipeTo(client.writable).catch(() => {}).finally(cut);
      }, () => client.close());
    }
  })().catch(() => {});
  return {
    port,
    get accepted() {
      return accepted;
    },
    close() {
      listener.close();
      closeConns([...open], open);
    },
  };
}

/** Closes each of `conns` (skipping one closed already) and removes it from `open`. */
export function closeConns(conns: Iterable<Deno.Conn>, open: Set<Deno.Conn>): void {
  for (const c of conns) {
    try {
      c.close();
    } catch { /* closed already */ }
    open.delete(c);
  }
}

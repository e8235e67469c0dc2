/**
 * A Kafka-aware TCP proxy in front of the test broker's PROXIED listener,
 * which advertises the proxy's own address: a client that bootstraps
 * through it sends everything through it (metadata, fetches, commits).
 * It can hold back requests of chosen APIs for a while, as a slow group
 * coordinator on another broker would, and counts what each client had
 * outstanding at once.
 *
 * @module
 */
import { brokerOptions, portOpen } from "../../scripts/broker.ts";
import { closeConns } from "./proxy.ts";
import {
  FrameSplitter,
  type RequestHeader,
  requestHeader,
  responseCorrelationId,
} from "./kafka_frames.ts";

/** A running proxy. */
export interface KafkaProxy {
  /** The bootstrap address to give a client. */
  readonly brokers: string[];
  /**
   * Holds every later request of `apiKey` back `ms` before passing it on (0: none); requests
   * sent after it on the same connection pass it.
   */
  delay(apiKey: number, ms: number): void;
  /** The most requests of `apiKey` one client had sent and not yet had answered, at any moment. */
  mostInFlight(apiKey: number): number;
  /** The requests of `apiKey` seen so far, in order. */
  requests(apiKey: number): RequestHeader[];
  /** Stops listening and cuts every connection. */
  close(): void;
}

/**
 * Starts the proxy on the broker's proxy port (`KAFKA_PROXY_PORT`, default
 * the broker's port + 3). Fails, naming the fix, when the broker has no
 * PROXIED listener (a broker started before it was configured).
 */
export async function startKafkaProxy(): Promise<KafkaProxy> {
  const { host, proxiedPort, proxyPort } = brokerOptions();
  if (!await portOpen(host, proxiedPort)) {
    throw new Error(
      `Cannot start the Kafka proxy as the broker has no PROXIED listener on ${host}:${proxiedPort}: ` +
        "restart it (deno task kafka down, then up) so that it reads config/kafka/server.properties again",
    );
  }
  const delays = new Map<number, number>();
  const seen = new Map<number, RequestHeader[]>();
  const most = new Map<number, number>();
  /** Outstanding requests per "apiKey client". */
  const outstanding = new Map<string, number>();
  const count = (key: string, by: number) => {
    const n = (outstanding.get(key) ?? 0) + by;
    outstanding.set(key, n);
    return n;
  };
  const open = new Set<Deno.Conn>();
  const listener = Deno.listen({ hostname: host, port: proxyPort });

  const serve = async (client: Deno.Conn) => {
    const server = await Deno.connect({ hostname: host, port: proxiedPort });
    open.add(server);
    const asked = new Map<number, RequestHeader>();
    const cut = () => closeConns([client, server], open);
    const upstream = (async () => {
      const frames = new FrameSplitter();
      let sending = Promise.resolve();
      const held: Promise<unknown>[] = [];
      for await (const chunk of client.readable) {
        for (const frame of frames.push(chunk)) {
          const header = requestHeader(frame);
          asked.set(header.correlationId, header);
          seen.set(header.apiKey, [...(seen.get(header.apiKey) ?? []), header]);
          const n = count(`${header.apiKey} ${header.clientId}`, 1);
          most.set(header.apiKey, Math.max(most.get(header.apiKey) ?? 0, n));
          const holdMs = delays.get(header.apiKey) ?? 0;
          // A held request does not hold up those behind it: the broker gets them first, and the
          // client has their answers before its answer (as from a slow group coordinator on
          // another broker than the partitions' leader). Writes stay whole and in turn.
          // (A write that fails means the connection is going: the reads end and cut it.)
          const send = () => (sending = sending.then(() =>
            writeAll(server, frame)
          ).catch(() => {}));
          if (holdMs > 0) held.push(new Promise((r) => setTimeout(r, holdMs)).then(send));
          else send();
        }
      }
      await Promise.all(held);
      await sending;
    })();
    const downstream = (async () => {
      const frames = new FrameSplitter();
      for await (const chunk of server.readable) {
        for (const frame of frames.push(chunk)) {
          const header = asked.get(responseCorrelationId(frame));
          if (header) {
            asked.delete(header.correlationId);
            count(`${header.apiKey} ${header.clientId}`, -1);
          }
          await writeAll(client, frame);
        }
      }
    })();
    // Either side closing ends the connection on both.
    await Promise.race([upstream, downstream]).catch(() => {});
    cut();
    await Promise.allSettled([upstream, downstream]);
  };

  (async () => {
    for await (const client of listener) {
      open.add(client);
      serve(client).catch(() => closeConns([client], open));
    }
  })().catch(() => {});

  return {
    brokers: [`${host}:${proxyPort}`],
    delay: (apiKey, ms) => void delays.set(apiKey, ms),
    mostInFlight: (apiKey) => most.get(apiKey) ?? 0,
    requests: (apiKey) => [...(seen.get(apiKey) ?? [])],
    close() {
      listener.close();
      closeConns([...open], open);
    },
  };
}

async function writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  for (let at = 0; at < bytes.length;) at += await conn.write(bytes.subarray(at));
}

/**
 * A Kafka-aware TCP proxy in front of the test broker's PROXIED listener,
 * which advertises the proxy's own address: a client that bootstraps
 * through it sends everything through it (metadata, fetches, commits).
 * It can hold back requests of chosen APIs for a while, as a slow group
 * coordinator on another broker would, and records when each request
 * arrived and was answered.
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

/** A request the proxy passed on, with when (`performance.now()`) it arrived and was answered. */
export interface SeenRequest extends RequestHeader {
  arrivedAt: number;
  /** Null while unanswered (or when its connection closed first). */
  answeredAt: number | null;
}

/** Which requests {@linkcode KafkaProxy.cut} cuts the connection of. */
export interface CutOptions {
  when?: "request" | "answer";
  times?: number;
  after?: number;
}

/** A running proxy. */
export interface KafkaProxy {
  /** The bootstrap address to give a client. */
  readonly brokers: string[];
  /**
   * Holds every later request of `apiKey` back `ms` before passing it on (0: none); requests
   * sent after it on the same connection pass it.
   */
  delay(apiKey: number, ms: number): void;
  /**
   * The most requests of `apiKey` one client had sent and not yet had answered, at any moment
   * (a request stops counting when answered or when its connection closes).
   */
  mostInFlight(apiKey: number): number;
  /** The requests of `apiKey` seen so far, in order of arrival. */
  requests(apiKey: number): SeenRequest[];
  /**
   * Cuts the connection of each of the next `times` requests of `apiKey`
   * (default 1), after letting `after` of them through (default 0): when
   * the request arrives (`when: "request"`: it never reaches the broker) or
   * when its answer does (`"answer"`, the default: applied, its answer
   * lost). `first` resolves once the first was cut, `all` once the last was.
   */
  cut(
    apiKey: number,
    options?: CutOptions,
  ): { first: Promise<SeenRequest>; all: Promise<SeenRequest[]> };
  /** Stops cutting the connections of `apiKey`'s requests (a `cut()` with `times: Infinity`). */
  uncut(apiKey: number): void;
  /** Stops listening, drops the requests it holds and cuts every connection. */
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
  /** Armed by cut(): the request of the key to cut at its answer, those cut so far, those to let through. */
  const cutting = new Map<number, {
    when: "request" | "answer";
    request: SeenRequest | null;
    skip: number;
    done: SeenRequest[];
    times: number;
    first: (request: SeenRequest) => void;
    all: (done: SeenRequest[]) => void;
  }>();
  /** Records that `request` had its connection cut; true when it was the last of its cut(). */
  const wasCut = (request: SeenRequest) => {
    const armed = cutting.get(request.apiKey)!;
    armed.done.push(request);
    armed.request = null;
    armed.first(request);
    if (armed.done.length < armed.times) return;
    cutting.delete(request.apiKey);
    armed.all(armed.done);
  };
  const seen = new Map<number, SeenRequest[]>();
  const most = new Map<number, number>();
  /** Outstanding requests per "apiKey client". */
  const outstanding = new Map<string, number>();
  const count = (request: SeenRequest, by: number) => {
    const key = `${request.apiKey} ${request.clientId}`;
    const n = (outstanding.get(key) ?? 0) + by;
    outstanding.set(key, n);
    return n;
  };
  const open = new Set<Deno.Conn>();
  const holds = new Set<ReturnType<typeof setTimeout>>();
  let closed = false;
  const listener = Deno.listen({ hostname: host, port: proxyPort });

  const serve = async (client: Deno.Conn) => {
    const server = await Deno.connect({ hostname: host, port: proxiedPort });
    open.add(server);
    if (closed) return closeConns([client, server], open);
    const asked = new Map<number, SeenRequest>();
    let ended = false;
    const cut = () => {
      ended = true;
      closeConns([client, server], open);
      for (const request of asked.values()) count(request, -1);
      asked.clear();
    };
    const upstream = (async () => {
      const frames = new FrameSplitter();
      let sending = Promise.resolve();
      for await (const chunk of client.readable) {
        for (const frame of frames.push(chunk)) {
          const request: SeenRequest = {
            ...requestHeader(frame),
            arrivedAt: performance.now(),
            answeredAt: null,
          };
          asked.set(request.correlationId, request);
          seen.set(request.apiKey, [...(seen.get(request.apiKey) ?? []), request]);
          most.set(request.apiKey, Math.max(most.get(request.apiKey) ?? 0, count(request, 1)));
          const armed = cutting.get(request.apiKey);
          if (armed && armed.request === null && armed.skip-- <= 0) {
            if (armed.when === "request") {
              cut();
              wasCut(request);
              return;
            }
            armed.request = request;
          }
          // A held request does not hold up those behind it: the broker gets them first, and the
          // client has their answers before its answer (as from a slow group coordinator on
          // another broker than the partitions' leader). Writes stay whole and in turn; a write
          // that fails means the connection is going (the reads end and cut it).
          const send = () => {
            if (!ended) sending = sending.then(() => writeAll(server, frame)).catch(() => {});
          };
          const holdMs = delays.get(request.apiKey) ?? 0;
          if (holdMs === 0) send();
          else {
            const hold = setTimeout(() => {
              holds.delete(hold);
              send();
            }, holdMs);
            holds.add(hold);
          }
        }
      }
    })();
    const downstream = (async () => {
      const frames = new FrameSplitter();
      for await (const chunk of server.readable) {
        for (const frame of frames.push(chunk)) {
          const request = asked.get(responseCorrelationId(frame));
          if (request && cutting.get(request.apiKey)?.request === request) {
            cut();
            wasCut(request);
            return;
          }
          if (request) {
            asked.delete(request.correlationId);
            request.answeredAt = performance.now();
            count(request, -1);
          }
          await writeAll(client, frame);
        }
      }
    })();
    // Either side closing ends the connection on both; what it still holds is dropped.
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
    cut(apiKey, { when = "answer", times = 1, after = 0 } = {}) {
      let first!: (request: SeenRequest) => void;
      let all!: (done: SeenRequest[]) => void;
      const promises = {
        first: new Promise<SeenRequest>((resolve) => (first = resolve)),
        all: new Promise<SeenRequest[]>((resolve) => (all = resolve)),
      };
      cutting.set(apiKey, { when, request: null, skip: after, done: [], times, first, all });
      return promises;
    },
    uncut: (apiKey) => void cutting.delete(apiKey),
    close() {
      closed = true;
      listener.close();
      for (const hold of holds) clearTimeout(hold);
      holds.clear();
      closeConns([...open], open);
    },
  };
}

async function writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  for (let at = 0; at < bytes.length;) at += await conn.write(bytes.subarray(at));
}

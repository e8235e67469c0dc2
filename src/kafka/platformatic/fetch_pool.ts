/**
 * The connections a consumer's Fetches go on, whose Fetch responses are
 * parsed by the engine (fetch_response.ts) instead of by the library: the
 * library's consumer still picks the broker, builds the request, keeps the
 * fetch session and retries, but hands the response bytes to
 * {@linkcode parseFetchResponse}, which leaves the records in the bytes
 * until the worker reads them.
 *
 * @module
 */
import { Buffer } from "node:buffer";
import type { Broker, Connection, ConnectionOptions, ConnectionPool } from "@platformatic/kafka";
import type { Platformatic } from "./library.ts";
import { parseFetchResponse } from "./fetch_response.ts";
import type { Decompress } from "./record_batch.ts";

/** Kafka's API key of Fetch. */
const FETCH = 1;

type Send = Connection["send"];
type Parser = Parameters<Send>[3];
type ParserReader = Parameters<Parser>[3];

/**
 * A `ConnectionPool` whose connections parse Fetch responses with
 * {@linkcode parseFetchResponse}; every other request is sent as it is.
 *
 * @example
 * ```ts ignore
 * const pool = fetchConnectionPool(library, "consumerd-orders", connectionOptions);
 * await consumer.fetch({ ...options, connectionPool: pool });
 * ```
 */
export function fetchConnectionPool(
  library: Platformatic,
  clientId: string,
  options: ConnectionOptions,
): ConnectionPool {
  const parser = fetchParser(library);
  const views = new WeakMap<Connection, Connection>();
  const viewOf = (connection: Connection): Connection => {
    let view = views.get(connection);
    if (view === undefined) {
      view = fetchView(connection, parser);
      views.set(connection, view);
    }
    return view;
  };
  class FetchConnectionPool extends library.ConnectionPool {
    // @ts-ignore: the overloads of the library's `get` are kept; only its connection is wrapped.
    override get(
      broker: Broker,
      callback?: (error: Error | null, connection?: Connection) => void,
    ): void | Promise<Connection> {
      if (callback === undefined) return super.get(broker).then(viewOf);
      super.get(broker, (error, connection) => {
        callback(error, error || connection === undefined ? connection : viewOf(connection));
      });
    }
  }
  return new FetchConnectionPool(clientId, options) as unknown as ConnectionPool;
}

/** `connection`, with Fetch responses parsed by `parser`. */
function fetchView(connection: Connection, parser: Parser): Connection {
  const send: Send = (apiKey, apiVersion, payload, responseParser, ...rest) =>
    connection.send(
      apiKey,
      apiVersion,
      payload,
      apiKey === FETCH ? parser as typeof responseParser : responseParser,
      ...rest,
    );
  return new Proxy(connection, {
    get(target, name) {
      if (name === "send") return send;
      const value = Reflect.get(target, name);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

/** The library's decompressors by a batch's compression bits. */
export function decompressor(library: Platformatic): Decompress {
  const codecs = library.compressionsAlgorithmsByBitmask as Record<
    number,
    { decompressSync(data: Buffer): Uint8Array } | undefined
  >;
  return (codec, data) => {
    const algorithm = codecs[codec];
    if (algorithm === undefined) {
      throw new library.UnsupportedCompressionError(
        `Unsupported compression algorithm with bitmask ${codec}`,
      );
    }
    const out = algorithm.decompressSync(data);
    return Buffer.isBuffer(out) ? out : Buffer.from(out.buffer, out.byteOffset, out.length);
  };
}

/** A Fetch response parser that fails as the library's does: a `ResponseError` listing partition errors. */
export function fetchParser(library: Platformatic): Parser {
  const decompress = decompressor(library);
  return (_correlationId: number, apiKey: number, apiVersion: number, reader: ParserReader) => {
    const bytes = reader.buffer as unknown as Buffer | { buffer: Buffer };
    const body = (Buffer.isBuffer(bytes) ? bytes : bytes.buffer).subarray(reader.position);
    const { response, errors } = parseFetchResponse(body, apiVersion, decompress);
    if (errors.length > 0) {
      throw new library.ResponseError(
        apiKey,
        apiVersion,
        Object.fromEntries(errors.map(([path, code]) => [path, [code, null]])),
        response,
      );
    }
    return response;
  };
}

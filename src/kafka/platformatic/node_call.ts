/**
 * Sends one request of a Kafka API, encoded by @platformatic/kafka, to one
 * broker, through any of the library's clients (a consumer or a producer):
 * the requests the engine sends itself (OffsetFetch, OffsetCommit,
 * TxnOffsetCommit, …) with the fields the library's own methods leave out.
 *
 * @module
 */
import type { Platformatic } from "./library.ts";

/** An encoder of the library's API table: a request's arguments, then the callback. */
type LibraryApi = ((...args: unknown[]) => void) & { version: number };

/** Calls the library's internal method under `symbol` with one argument and a callback. */
export function callInternal<T>(client: object, symbol: symbol, argument: unknown): Promise<T> {
  const fn = Reflect.get(client, symbol) as (
    arg: unknown,
    callback: (error: unknown, value: T) => void,
  ) => void;
  return new Promise((resolve, reject) =>
    fn.call(client, argument, (error, value) => error ? reject(error) : resolve(value))
  );
}

/**
 * Sends one request of API `name` (the highest version both sides speak) to
 * `connection`: `args(version)` are its arguments after the connection.
 * Rejects with the library's error.
 *
 * @example
 * ```ts ignore
 * await callApi(producer, library, connection, "TxnOffsetCommit", (version) => [...]);
 * ```
 */
export async function callApi<T>(
  client: object,
  library: Platformatic,
  connection: unknown,
  name: string,
  args: (version: number) => unknown[],
): Promise<T> {
  const api = await callInternal<LibraryApi>(client, library.kGetApi, name);
  return await new Promise<T>((resolve, reject) =>
    api(
      connection,
      ...args(api.version),
      (error: unknown, result: unknown) => error ? reject(error) : resolve(result as T),
    )
  );
}

/** A connection of `client` to the broker whose node id is `node` (from its cluster metadata). */
export async function nodeConnection(
  client: object,
  library: Platformatic,
  node: number,
): Promise<unknown> {
  const metadata = await callInternal<{ brokers: Map<number, unknown> }>(
    client,
    library.kMetadata,
    { topics: [] },
  );
  const broker = metadata.brokers.get(node);
  if (broker === undefined) throw new Error(`The broker ${node} is not in the cluster metadata`);
  return await callInternal<unknown>(client, library.kGetConnection, broker);
}

/**
 * What the worker bundle's copy of @platformatic/kafka gets for `node:net`'s
 * `createConnection` and `node:tls`'s `connect` (scripts/build.ts rewires its
 * imports to this module): sockets over Deno's own TCP on Deno
 * (src/kafka/platformatic/deno_socket.ts), node's elsewhere.
 *
 * @module
 */
export { connect, createConnection } from "../kafka/platformatic/deno_socket.ts";

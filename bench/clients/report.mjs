/**
 * The line protocol every benchmark client speaks on stdout, and the no-op
 * handler's bookkeeping: count messages, sum value sizes, time the window
 * from the first message to the expected last one.
 *
 * `{"bench":"first"}` when the first message arrives, `{"bench":"done",
 * "messages":…, "bytes":…, "elapsedMs":…}` when the expected count was seen.
 * The client then waits for stdin to close before it disconnects and exits,
 * so that its process can be measured at the end of the window.
 *
 * @module
 */
import process from "node:process";

/** Prints one protocol line: `{"bench": event, ...fields}`. */
export function emit(event, fields = {}) {
  process.stdout.write(`${JSON.stringify({ bench: event, ...fields })}\n`);
}

/** Returns `see(value)`: call it once per message with its value (Uint8Array/Buffer or null). */
export function counter(expected) {
  let messages = 0;
  let bytes = 0;
  let first = 0;
  return function see(value) {
    if (messages === 0) {
      first = performance.now();
      emit("first");
    }
    bytes += value === null || value === undefined ? 0 : value.byteLength;
    messages++;
    if (messages === expected) {
      emit("done", { messages, bytes, elapsedMs: performance.now() - first });
    }
  };
}

/** Resolves when stdin closes (the benchmark asks the client to stop). */
export function stdinClosed() {
  return new Promise((resolve) => {
    process.stdin.on("end", resolve);
    process.stdin.on("close", resolve);
    process.stdin.resume();
  });
}

/** The command-line arguments every client takes. */
export function clientArgs() {
  const [brokers, topic, group, expected, mode] = process.argv.slice(2);
  if (!brokers || !topic || !group || !expected || !mode) {
    throw new TypeError("usage: <brokers> <topic> <group> <expected messages> <batch|message>");
  }
  return { brokers: brokers.split(","), topic, group, expected: Number(expected), mode };
}

/**
 * Kafka's wire framing, as far as a proxy needs it: every request and
 * response is a 4-byte big-endian size and that many bytes. A request's
 * header starts with its API key, version, correlation id and client id
 * (all header versions); a response's with the correlation id.
 *
 * @module
 */

/** The start of a request header. */
export interface RequestHeader {
  apiKey: number;
  apiVersion: number;
  correlationId: number;
  /** Null when the client sent none. */
  clientId: string | null;
}

/** Kafka API keys the tests delay or count. */
export const API = {
  produce: 0,
  fetch: 1,
  listOffsets: 2,
  offsetCommit: 8,
  initProducerId: 22,
  endTxn: 26,
  txnOffsetCommit: 28,
} as const;

/**
 * Splits a byte stream into whole frames (size prefix included), keeping
 * what is left of a frame until the rest arrives.
 *
 * @example
 * ```ts
 * const frames = new FrameSplitter();
 * for (const frame of frames.push(chunk)) forward(frame);
 * ```
 */
export class FrameSplitter {
  #pending = new Uint8Array(0);

  /** The frames `chunk` completes, in order. */
  push(chunk: Uint8Array): Uint8Array[] {
    let bytes = chunk;
    if (this.#pending.length > 0) {
      bytes = new Uint8Array(this.#pending.length + chunk.length);
      bytes.set(this.#pending);
      bytes.set(chunk, this.#pending.length);
    }
    const frames: Uint8Array[] = [];
    let at = 0;
    while (bytes.length - at >= 4) {
      const size = new DataView(bytes.buffer, bytes.byteOffset + at, 4).getInt32(0);
      if (size < 0) throw new RangeError(`Cannot split a Kafka frame of size ${size}`);
      if (bytes.length - at - 4 < size) break;
      frames.push(bytes.slice(at, at + 4 + size));
      at += 4 + size;
    }
    this.#pending = bytes.slice(at);
    return frames;
  }
}

/** The header fields at the start of a request frame (size prefix included). */
export function requestHeader(frame: Uint8Array): RequestHeader {
  if (frame.length < 14) {
    throw new RangeError(`Cannot read a request header from ${frame.length} bytes`);
  }
  const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  const clientIdLength = view.getInt16(12);
  if (clientIdLength > frame.length - 14) {
    throw new RangeError(
      `Cannot read a client id of ${clientIdLength} bytes from ${frame.length - 14}`,
    );
  }
  return {
    apiKey: view.getInt16(4),
    apiVersion: view.getInt16(6),
    correlationId: view.getInt32(8),
    clientId: clientIdLength < 0
      ? null
      : new TextDecoder().decode(frame.subarray(14, 14 + clientIdLength)),
  };
}

/** The correlation id of a response frame (size prefix included). */
export function responseCorrelationId(frame: Uint8Array): number {
  if (frame.length < 8) {
    throw new RangeError(`Cannot read a response header from ${frame.length} bytes`);
  }
  return new DataView(frame.buffer, frame.byteOffset, frame.byteLength).getInt32(4);
}

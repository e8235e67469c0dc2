/**
 * What the worker bundle's copy of @platformatic/kafka gets for
 * @platformatic/wasm-utils (scripts/build.ts rewires its imports to this
 * module): the same CRC-32C and lz4/snappy codecs, from the package's own
 * WebAssembly file, compiled when first called instead of when the library
 * loads. The package reads and compiles that file at import, through
 * `node:fs`: about 10 ms of CPU in every worker, though a consumer that
 * neither produces nor reads lz4 or snappy batches never calls it.
 *
 * @module
 */
import { Buffer } from "node:buffer";
import { DynamicBuffer } from "@platformatic/dynamic-buffer";
import { bundleRequire } from "./bundle_require.ts";

/** The package whose WebAssembly file this module loads. */
const PACKAGE = "@platformatic/wasm-utils";
/** That file, next to the package's entry module. */
const WASM_FILE = "native.wasm";

/** The WebAssembly module's exports, as version 0.2 of the package has them. */
interface Codecs {
  memory: WebAssembly.Memory;
  /** Reserves `length` bytes of memory: where they start. */
  alloc(length: number): number;
  /** Frees what `alloc(length)` returned. */
  dealloc(at: number, length: number): void;
  /** CRC-32C of `length` bytes at `at`, as a signed 32-bit integer. */
  crc32c(at: number, length: number): number;
  /** Each codec leaves its output in memory it allocated: `(start << 32) | length`. */
  lz4_compress(at: number, length: number): bigint;
  lz4_decompress(at: number, length: number): bigint;
  snappy_compress(at: number, length: number): bigint;
  snappy_decompress(at: number, length: number): bigint;
}

const EXPORTS = [
  "memory",
  "alloc",
  "dealloc",
  "crc32c",
  "lz4_compress",
  "lz4_decompress",
  "snappy_compress",
  "snappy_decompress",
] as const;

/** The package's WebAssembly module, compiled on the first call. */
let compiled: WebAssembly.Module | null = null;
/** Its instance; a fresh one after a call trapped. */
let codecs: Codecs | null = null;

/** The module's exports, compiled on the first call. */
function wasm(): Codecs {
  compiled ??= new WebAssembly.Module(readWasm() as BufferSource);
  codecs ??= instantiate(compiled);
  return codecs;
}

/** The package's WebAssembly file. */
function readWasm(): Uint8Array {
  const url = new URL(WASM_FILE, import.meta.resolve(PACKAGE));
  if ("Deno" in globalThis) return Deno.readFileSync(url);
  const fs = bundleRequire("fs") as { readFileSync(path: URL): Uint8Array };
  return fs.readFileSync(url);
}

/**
 * The exports of an instance of `module`.
 *
 * @throws {Error} When they lack one that this module calls (another
 *   version of the package).
 */
export function instantiate(module: WebAssembly.Module): Codecs {
  const { exports } = new WebAssembly.Instance(module);
  const missing = EXPORTS.filter((name) => !(name in exports));
  if (missing.length > 0) {
    throw new Error(`${PACKAGE}'s ${WASM_FILE} does not export ${missing.join(", ")}`);
  }
  return exports as unknown as Codecs;
}

/** The bytes of `data` (a DynamicBuffer's, joined). */
function bytesOf(data: Uint8Array | DynamicBuffer): Uint8Array {
  return DynamicBuffer.isDynamicBuffer(data) ? (data as DynamicBuffer).buffer : data as Uint8Array;
}

/** Runs `call` on a copy of `data` in the module's memory, then frees the copy. */
function withInput<T>(
  data: Uint8Array | DynamicBuffer,
  call: (module: Codecs, at: number, length: number) => T,
): T {
  const bytes = bytesOf(data);
  const module = wasm();
  // One byte at least: the allocator's answer for none is not an address to free.
  const size = Math.max(1, bytes.length);
  const at = module.alloc(size);
  let trapped = true;
  try {
    new Uint8Array(module.memory.buffer, at, bytes.length).set(bytes);
    const result = call(module, at, bytes.length);
    trapped = false;
    return result;
  } finally {
    // A call that trapped (corrupt lz4 or snappy input) leaves the instance's own allocations
    // behind, and enough of them break it for good: the next call gets a fresh instance.
    if (trapped) codecs = null;
    else module.dealloc(at, size);
  }
}

/** Copies a codec's output out of the module's memory, and frees it. */
function takeOutput(module: Codecs, output: bigint): Buffer {
  const length = Number(BigInt.asUintN(32, output));
  const at = Number(output >> 32n);
  const copy = Buffer.from(new Uint8Array(module.memory.buffer, at, length));
  module.dealloc(at, length);
  return copy;
}

/** A codec of the module, applied to `data`. */
function codec(name: "lz4_compress" | "lz4_decompress" | "snappy_compress" | "snappy_decompress") {
  return (data: Uint8Array | DynamicBuffer): Buffer =>
    withInput(data, (module, at, length) => takeOutput(module, module[name](at, length)));
}

/**
 * CRC-32C (Castagnoli) of `data`, unsigned.
 *
 * @example
 * ```ts ignore
 * crc32c(new TextEncoder().encode("123456789")); // 0xe3069283
 * ```
 */
export function crc32c(data: Uint8Array | DynamicBuffer): number {
  return withInput(data, (module, at, length) => module.crc32c(at, length) >>> 0);
}

/** An lz4 frame of `data`. */
export const lz4Compress: (data: Uint8Array | DynamicBuffer) => Buffer = codec("lz4_compress");
/** The content of the lz4 frame `data`. */
export const lz4Decompress: (data: Uint8Array | DynamicBuffer) => Buffer = codec("lz4_decompress");
/** `data` snappy-compressed (one raw block). */
export const snappyCompress: (data: Uint8Array | DynamicBuffer) => Buffer = codec(
  "snappy_compress",
);
/** The content of the raw snappy block `data`. */
export const snappyDecompress: (data: Uint8Array | DynamicBuffer) => Buffer = codec(
  "snappy_decompress",
);

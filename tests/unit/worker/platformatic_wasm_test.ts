/**
 * The bundle's stand-in for @platformatic/wasm-utils gives what the package
 * gives, byte for byte, on the same inputs: the package itself is the
 * reference here.
 */
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { DynamicBuffer } from "@platformatic/dynamic-buffer";
import * as reference from "@platformatic/wasm-utils";
import * as standIn from "../../../src/worker/platformatic_wasm.ts";

function inputs(): Uint8Array[] {
  let seed = 7;
  const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  const sizes = [0, 1, 9, 100, 4096, 4097, 65_536, 1_500_000];
  return sizes.map((size, i) => {
    const bytes = new Uint8Array(size);
    // Half of them compressible (few distinct bytes), half not.
    for (let j = 0; j < size; j++) bytes[j] = Math.floor(random() * (i % 2 === 0 ? 4 : 256));
    return bytes;
  });
}

Deno.test("crc32c: the package's checksum, for plain bytes and DynamicBuffers", () => {
  assert.equal(standIn.crc32c(new TextEncoder().encode("123456789")), 0xe3069283);
  for (const bytes of inputs()) {
    assert.equal(
      standIn.crc32c(bytes),
      reference.crc32c(Buffer.from(bytes)),
      `${bytes.length} bytes`,
    );
    const dynamic = new DynamicBuffer();
    dynamic.append(Buffer.from(bytes.subarray(0, bytes.length >> 1)));
    dynamic.append(Buffer.from(bytes.subarray(bytes.length >> 1)));
    assert.equal(standIn.crc32c(dynamic), reference.crc32c(Buffer.from(bytes)));
  }
});

Deno.test("lz4 and snappy: the package's output, and each decodes the other's", () => {
  const codecs = [
    ["lz4Compress", "lz4Decompress"],
    ["snappyCompress", "snappyDecompress"],
  ] as const;
  for (const bytes of inputs()) {
    const input = Buffer.from(bytes);
    for (const [compress, decompress] of codecs) {
      const ours = standIn[compress](input);
      const theirs = reference[compress](input);
      assert.ok(Buffer.isBuffer(ours), `${compress} gives a Buffer`);
      assert.deepEqual(ours, theirs, `${compress}, ${bytes.length} bytes`);
      assert.deepEqual(standIn[decompress](theirs), input, `${decompress}, ${bytes.length} bytes`);
      assert.deepEqual(reference[decompress](ours), input);
    }
  }
});

Deno.test("instantiate refuses a WebAssembly module without the codecs", () => {
  // The smallest valid module: magic and version, no exports.
  const empty = new WebAssembly.Module(new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0]));
  assert.throws(() => standIn.instantiate(empty), /does not export memory, alloc, dealloc, crc32c/);
});

Deno.test("corrupt lz4 input fails its call, and calls after thousands of them still work", () => {
  const corrupt = Buffer.from("not an lz4 frame at all, just text".repeat(4));
  const check = Buffer.from("123456789");
  for (let i = 0; i < 2_500; i++) {
    assert.throws(() => standIn.lz4Decompress(corrupt));
  }
  assert.equal(standIn.crc32c(check), 0xe3069283);
  const input = Buffer.from("after the failures ".repeat(100));
  assert.deepEqual(standIn.lz4Decompress(standIn.lz4Compress(input)), input);
});

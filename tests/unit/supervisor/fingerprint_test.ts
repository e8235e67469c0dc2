import assert from "node:assert/strict";
import { parseConfig } from "../../../src/config/parse.ts";
import {
  configSnapshot,
  definitionFingerprint,
  fingerprintBytes,
  fingerprintValue,
} from "../../../src/supervisor/fingerprint.ts";

const parse = (extra = "", sasl = "") =>
  parseConfig(
    [
      "kafka:",
      "  brokers: k:9092",
      sasl,
      "consumers:",
      "  - { name: a, group: g, topic: t, handler: ./a.ts" + extra + " }",
    ].filter((l) => l !== "").join("\n"),
    { file: "/srv/consumers.yaml" },
  );

Deno.test("fingerprintBytes() is the 64-bit FNV-1a hash", () => {
  assert.equal(fingerprintBytes(new Uint8Array()), "cbf29ce484222325");
  assert.equal(fingerprintBytes(new TextEncoder().encode("a")), "af63dc4c8601ec8c");
  assert.equal(fingerprintBytes(new TextEncoder().encode("consumerd")), "97842269f4f0a3f7");
  assert.equal(
    fingerprintBytes(new Uint8Array(5000).fill(255)),
    fnv1a64(new Uint8Array(5000).fill(255)),
  );
});

/** FNV-1a, 64 bits, as its definition reads (in BigInt). */
function fnv1a64(bytes: Uint8Array): string {
  let hash = 0xcbf29ce484222325n;
  for (const byte of bytes) hash = ((hash ^ BigInt(byte)) * 0x100000001b3n) & 0xffffffffffffffffn;
  return hash.toString(16).padStart(16, "0");
}

Deno.test("fingerprintBytes() agrees with FNV-1a computed in BigInt on random bytes", () => {
  for (let length = 0; length < 200; length += 7) {
    const bytes = crypto.getRandomValues(new Uint8Array(length));
    assert.equal(fingerprintBytes(bytes), fnv1a64(bytes), `bytes: ${bytes}`);
  }
});

Deno.test("fingerprintValue() ignores key order, not values", () => {
  assert.equal(
    fingerprintValue({ a: 1, b: [1, { c: 2, d: 3 }] }),
    fingerprintValue({ b: [1, { d: 3, c: 2 }], a: 1 }),
  );
  assert.notEqual(fingerprintValue({ a: 1 }), fingerprintValue({ a: 2 }));
});

Deno.test("definitionFingerprint() ignores replicas and sees every other field", () => {
  const base = parse().consumers[0]!;
  assert.equal(
    definitionFingerprint(base),
    definitionFingerprint(parse(", replicas: 3").consumers[0]!),
  );
  assert.notEqual(
    definitionFingerprint(base),
    definitionFingerprint(parse(", resetOffsetOnStart: true").consumers[0]!),
  );
});

Deno.test("configSnapshot() with redact leaves secret values out of the kafka fingerprint", () => {
  const one = parse("", "  sasl: { mechanism: plain, username: u, password: one }");
  const two = parse("", "  sasl: { mechanism: plain, username: u, password: two }");
  const none = new Map<string, string>();
  assert.notEqual(configSnapshot(one, none).kafka, configSnapshot(two, none).kafka);
  assert.equal(
    configSnapshot(one, none, { redact: true }).kafka,
    configSnapshot(two, none, { redact: true }).kafka,
  );
  assert.equal(
    configSnapshot(one, new Map([["/srv/a.ts", "abc"]])).consumers[0]!.handler,
    "abc",
  );
});

Deno.test("configSnapshot() sees a change of http.allowedHosts (the status server restarts with it)", () => {
  const base = parse();
  const listed = { ...base, httpAllowedHosts: ["consumerd.ops.svc"] };
  const none = new Map<string, string>();
  assert.notEqual(configSnapshot(listed, none).http, configSnapshot(base, none).http);
  assert.equal(
    configSnapshot({ ...base, httpAllowedHosts: [] }, none).http,
    fingerprintValue(base.http),
    "unchanged for a config without it",
  );
});

Deno.test("configSnapshot() sees every settings change, and with redact leaves values from ${VAR} out", () => {
  const withSettings = (settings: string, env: Record<string, string>) =>
    parseConfig(
      [
        "kafka: { brokers: k:9092 }",
        "consumers:",
        `  - { name: a, group: g, topic: t, handler: ./a.ts, settings: ${settings} }`,
      ].join("\n"),
      { file: "/srv/consumers.yaml", env },
    );
  const none = new Map<string, string>();
  const definition = (config: ReturnType<typeof withSettings>, redact: boolean) =>
    configSnapshot(config, none, { redact }).consumers[0]!.definition;
  const one = withSettings("{ table: t1, token: '${TOKEN}' }", { TOKEN: "one" });
  const two = withSettings("{ table: t1, token: '${TOKEN}' }", { TOKEN: "two" });
  const other = withSettings("{ table: t2, token: '${TOKEN}' }", { TOKEN: "one" });
  assert.notEqual(definition(one, false), definition(two, false), "a reload restarts on it");
  assert.equal(definition(one, true), definition(two, true), "/status does not reflect it");
  assert.notEqual(definition(one, true), definition(other, true), "a literal change shows");
});

/**
 * The consumer options the platformatic engine builds pass the library's own
 * group-options checks, at the extremes the configuration allows: the
 * engine marks them so that the library skips those checks
 * (src/kafka/platformatic/lazy_validators.ts). The library's validators are
 * real ones here, run on unmarked copies.
 */
import assert from "node:assert/strict";
import {
  consumerOptions,
  type PlatformaticClientOptions,
} from "../../../../src/kafka/platformatic/client.ts";
import { joinOptions } from "../../../../src/kafka/platformatic/group_join.ts";
import { groupTiming } from "../../../../src/kafka/group_timing.ts";
import { loadPlatformatic } from "../../../../src/kafka/platformatic/library.ts";
import { TEST_KAFKA } from "../../../harness/kafka.ts";

type Check = ((data: unknown) => boolean) & { errors?: unknown };

function clientOptions(
  sessionTimeoutMs: number,
  maxHandlerMs: number,
  instanceId: string | null,
  balanced = true,
): PlatformaticClientOptions {
  const kafka = { ...TEST_KAFKA, engine: "platformatic" as const, sessionTimeoutMs };
  return {
    kafka,
    clientIdSuffix: "options-test",
    group: "orders.v2_group-1",
    topic: "orders",
    fetch: { maxBytesPerPartition: 1024 * 1024, maxBytes: 10 * 1024 * 1024, maxWaitMs: 500 },
    instanceId,
    membership: balanced
      ? {
        ...groupTiming(kafka, maxHandlerMs),
        beforeJoin: () => Promise.resolve(),
        joined: () => false,
      }
      : null,
  };
}

const CASES: Array<[string, PlatformaticClientOptions]> = [
  ["shortest session, short calls", clientOptions(6_000, 1_000, null)],
  ["longest session, short calls", clientOptions(1_800_000, 1_000, null)],
  ["shortest session, hour-long calls", clientOptions(6_000, 3_600_000, null)],
  ["static member", clientOptions(45_000, 300_000, "pod-7.orders.0")],
  ["simple mode", clientOptions(30_000, 300_000, null, false)],
];

Deno.test("the engine's consumer options pass the library's group-options checks", async () => {
  const library = await loadPlatformatic() as unknown as Record<string, Check>;
  const validators = ["groupIdAndOptionsValidator", "groupOptionsValidator"];
  for (const name of validators) assert.equal(typeof library[name], "function", name);
  for (const [label, options] of CASES) {
    const built = consumerOptions(options);
    // An unmarked copy: the library's validator compiles and checks it.
    const copy = { ...built, protocols: [...built.protocols] };
    for (const name of validators) {
      const validate = library[name]!;
      assert.equal(validate(copy), true, `${label}, ${name}: ${JSON.stringify(validate.errors)}`);
    }
  }
});

Deno.test("marked options pass without a check; unmarked ones are still checked", async () => {
  const library = await loadPlatformatic() as unknown as Record<string, Check>;
  const validate = library.groupOptionsValidator!;
  const built = consumerOptions(clientOptions(30_000, 60_000, null));
  const broken = { ...built, rebalanceTimeout: 1_000 };
  assert.equal(validate(broken), true, "the marked protocols array: not checked");
  assert.equal(validate({ ...broken, protocols: [...built.protocols] }), false);
  assert.match(JSON.stringify(validate.errors), /greater than or equal to/);
});

Deno.test("joinOptions() gives the library the revoke hook only once the member has joined", async () => {
  let joined = false;
  const calls: string[] = [];
  const options = joinOptions({
    ...groupTiming(TEST_KAFKA, 60_000),
    beforeJoin: async () => {
      calls.push("beforeJoin");
      await Promise.resolve();
    },
    joined: () => joined,
  });
  // The library reads the property before each attempt; a function costs a forced Metadata request.
  assert.equal(options.protocolsMetadata, undefined, "first join: nothing to revoke");
  assert.equal("protocolsMetadata" in consumerOptions(clientOptions(30_000, 60_000, null)), false);
  joined = true;
  const hook: unknown = options.protocolsMetadata;
  assert.ok(typeof hook === "function");
  const metadata = await (hook as () => Promise<Uint8Array>)();
  assert.deepEqual([calls, metadata?.length], [["beforeJoin"], 0]);
});

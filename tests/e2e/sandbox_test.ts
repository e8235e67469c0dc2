/** What a handler can and cannot do inside its Deno worker. */
import assert from "node:assert/strict";
import { fixtureHandler, startDaemon, writeConsumersConfig } from "../harness/daemon.ts";
import { uniqueName, waitFor, withTopic } from "../harness/kafka.ts";

Deno.test("a Deno worker reaches its brokers and what permissions grants, and nothing else", async () => {
  await withTopic({ partitions: 1 }, async ({ topic, admin }) => {
    const granted = await Deno.makeTempDir();
    await Deno.writeTextFile(`${granted}/granted.txt`, "ok");
    await admin.produce(topic, [{ value: "probe" }]);
    const config = await writeConsumersConfig([{
      name: "c",
      group: uniqueName("g"),
      topic,
      handler: fixtureHandler("probe.ts"),
      permissions: { read: [granted], env: ["PROBE_GRANTED_DIR"] },
    }]);
    const daemon = startDaemon(config, { env: { PROBE_GRANTED_DIR: granted } });
    try {
      const probe = await waitFor(() => daemon.logged("probe")[0], { what: "the probe" });
      assert.deepEqual(
        {
          readUngrantedFile: probe.readUngrantedFile,
          readGrantedFile: probe.readGrantedFile,
          writeFile: probe.writeFile,
          envUngranted: probe.envUngranted,
          connectOtherPort: probe.connectOtherPort,
          spawnProcess: probe.spawnProcess,
        },
        {
          readUngrantedFile: "NotCapable",
          readGrantedFile: "allowed",
          writeFile: "NotCapable",
          envUngranted: "NotCapable",
          connectOtherPort: "NotCapable",
          spawnProcess: "NotCapable",
        },
      );
    } finally {
      assert.equal(await daemon.stop(), 0);
      await Deno.remove(granted, { recursive: true });
    }
  });
});

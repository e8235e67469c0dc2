// POST /reload through the status server: an edit is applied and shows in
// /status; an invalid file answers 422 and changes nothing.
import assert from "node:assert/strict";
import { stringify } from "yaml";
import { fixtureHandler } from "../harness/daemon.ts";
import { getStatus, startHttpDaemon } from "../harness/http.ts";
import { BROKERS, uniqueName, withTopic } from "../harness/kafka.ts";

Deno.test("POST /reload applies an edit, and answers 422 for an invalid file without changing anything", async () => {
  await withTopic({ partitions: 1 }, async ({ topic }) => {
    const consumer = (name: string) => ({
      name,
      group: uniqueName("g"),
      topic,
      handler: fixtureHandler("quiet.ts"),
    });
    const a = consumer("a");
    const { daemon, url } = await startHttpDaemon([a]);
    try {
      const path = String((await daemon.waitForLog("starting")).config);
      const write = (consumers: unknown[]) =>
        Deno.writeTextFile(
          path,
          stringify({
            kafka: { brokers: BROKERS },
            // As started: a changed http section would move the server after the first reload,
            // and a request in that moment is refused (not what this test is about).
            http: { listen: "127.0.0.1:0" },
            reload: { debounceMs: 60_000 }, // only the POST reloads in this test
            consumers,
          }),
        );
      await write([a, consumer("b")]);
      const applied = await fetch(new URL("reload", url), { method: "POST" });
      assert.equal(applied.status, 200);
      const outcome = await applied.json();
      assert.deepEqual([outcome.ok, outcome.applied, outcome.added], [true, true, ["b"]]);
      const status = await getStatus(url);
      assert.deepEqual(status.consumers.map((c) => c.name), ["a", "b"]);
      assert.equal(status.config.revision, 2);

      await Deno.writeTextFile(path, "consumers: [ { name: a, topic: 7 ");
      const refused = await fetch(new URL("reload", url), { method: "POST" });
      assert.equal(refused.status, 422);
      const bad = await refused.json();
      assert.equal(bad.ok, false);
      assert.ok(bad.errors.length > 0, "says what is wrong");
      assert.deepEqual((await getStatus(url)).consumers.map((c) => c.name), ["a", "b"]);
    } finally {
      assert.equal(await daemon.stop(), 0);
    }
  });
});

/**
 * The reload's handler probe with the daemon as a process: it imports an
 * edited handler with exactly the permissions of the consumer's workers, so
 * its top-level code cannot read what the worker could not, and nothing it
 * throws can carry such a secret into logs, `/status` or `/metrics`.
 */
import assert from "node:assert/strict";
import { dirname, join } from "node:path";
import { stringify } from "yaml";
import { getMetrics, getStatus, startHttpDaemon } from "../harness/http.ts";
import { BROKERS, uniqueName, withTopic } from "../harness/kafka.ts";

const QUIET = "export default function handle() {}\n";

Deno.test("a reload probe has its worker's permissions: an env var not granted stays out of logs and /status; one granted loads", async () => {
  await withTopic({ partitions: 1, prefix: "probe" }, async ({ topic }) => {
    const secret = `s3cr3t-${crypto.randomUUID()}`;
    const dir = await Deno.makeTempDir({ prefix: "consumerd-probe-" });
    await Deno.writeTextFile(join(dir, "quiet.ts"), QUIET);
    // Top-level code that would put the daemon's secret into the reload's error.
    await Deno.writeTextFile(
      join(dir, "leak.ts"),
      'throw new Error(`password is ${Deno.env.get("SASL_PASSWORD")}`);\n' + QUIET,
    );
    // Top-level code that needs a variable its consumer grants.
    await Deno.writeTextFile(
      join(dir, "granted.ts"),
      'if (Deno.env.get("PROBE_SETTING") !== "on") throw new Error("PROBE_SETTING is not on");\n' +
        QUIET,
    );
    const consumer = (name: string, handler: string, extra: Record<string, unknown> = {}) => ({
      name,
      group: uniqueName(name),
      topic,
      handler: join(dir, handler),
      ...extra,
    });
    const a = consumer("a", "quiet.ts");
    const { daemon, url } = await startHttpDaemon([a], {
      env: { SASL_PASSWORD: secret, PROBE_SETTING: "on" },
    });
    try {
      const path = String((await daemon.waitForLog("starting")).config);
      const write = (consumers: unknown[]) =>
        Deno.writeTextFile(
          path,
          stringify({
            kafka: { brokers: BROKERS },
            http: { listen: "127.0.0.1:0" },
            reload: { debounceMs: 60_000 },
            consumers,
          }),
        );
      assert.ok(!dirname(path).startsWith(dir), "the handlers are not beside the config");

      await write([a, consumer("b", "leak.ts")]);
      const refused = await fetch(new URL("reload", url), { method: "POST" });
      const answer = await refused.text();
      const status = JSON.stringify(await getStatus(url));
      const metrics = await getMetrics(url);
      const dashboard = await (await fetch(url)).text();
      assert.equal(refused.status, 422, answer);
      for (const [where, text] of Object.entries({ answer, status, metrics, dashboard })) {
        assert.ok(!text.includes(secret), `the secret is in ${where}: ${text}`);
      }
      assert.ok(!daemon.stderr.join("\n").includes(secret), "the secret is in the daemon's log");
      // Refused for what the worker would hit: the variable is not granted.
      assert.match(answer, /SASL_PASSWORD/);
      assert.match(answer, /leak\.ts/);

      await write([a, consumer("b", "granted.ts", { permissions: { env: ["PROBE_SETTING"] } })]);
      const applied = await fetch(new URL("reload", url), { method: "POST" });
      const outcome = await applied.json();
      assert.equal(applied.status, 200, JSON.stringify(outcome));
      assert.deepEqual(outcome.added, ["b"]);
      await daemon.waitForLog("consumer started", { where: (r) => r.consumer === "b" });
    } finally {
      assert.equal(await daemon.stop(), 0);
      await Deno.remove(dir, { recursive: true });
    }
  });
});

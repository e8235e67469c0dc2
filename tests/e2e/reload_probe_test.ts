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
import { BROKERS, uniqueName, waitFor, withTopic } from "../harness/kafka.ts";

const QUIET = "export default function handle() {}\n";

Deno.test("a reload probe has its worker's permissions: an env var not granted stays out of logs and /status; one granted loads, set or not", async () => {
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
    // Top-level code that reads a variable its consumer grants, which the daemon does not have.
    await Deno.writeTextFile(
      join(dir, "unset.ts"),
      'export const mode = Deno.env.get("PROBE_UNSET") ?? "default";\n' + QUIET,
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
      assert.match(answer, /"path": "consumers\[1\]\.handler"/);

      // In the config's terms: the consumer, and the key that grants the variable.
      assert.match(
        answer,
        /consumers\[1\] \(b\): the handler needs env access to SASL_PASSWORD — add it to consumers\[1\]\.permissions\.env/,
      );

      const b = consumer("b", "granted.ts", { permissions: { env: ["PROBE_SETTING"] } });
      await write([a, b]);
      const applied = await fetch(new URL("reload", url), { method: "POST" });
      const outcome = await applied.json();
      assert.equal(applied.status, 200, JSON.stringify(outcome));
      assert.deepEqual(outcome.added, ["b"]);
      await daemon.waitForLog("consumer started", { where: (r) => r.consumer === "b" });

      // Granted but not set in the daemon's environment: the import reads undefined, as the
      // worker's will, and the reload is applied.
      const c = consumer("c", "unset.ts", { permissions: { env: ["PROBE_UNSET"] } });
      await write([a, b, c]);
      const unset = await fetch(new URL("reload", url), { method: "POST" });
      const unsetOutcome = await unset.json();
      assert.equal(unset.status, 200, JSON.stringify(unsetOutcome));
      assert.deepEqual(unsetOutcome.added, ["c"]);
      await daemon.waitForLog("consumer started", { where: (r) => r.consumer === "c" });
    } finally {
      assert.equal(await daemon.stop(), 0);
      await Deno.remove(dir, { recursive: true });
    }
  });
});

/** A handler that logs each message it starts and handles, tagged with `version`, taking `ms` each. */
const versioned = (version: string, ms = 0) =>
  `export default async function handle(message, ctx) {
  ctx.log.info("handling", { offset: message.offset, version: ${JSON.stringify(version)} });
  await new Promise((r) => setTimeout(r, ${ms}));
  ctx.log.info("handled", { offset: message.offset, value: message.text(), version: ${
    JSON.stringify(version)
  } });
}
`;

Deno.test("a handler edited to a broken version while its consumer drains for a reload is not started; the next reload checks it and a fixed one starts", async () => {
  await withTopic({ partitions: 1, prefix: "drainedit" }, async ({ topic, admin }) => {
    const dir = await Deno.makeTempDir({ prefix: "consumerd-drainedit-" });
    const handler = join(dir, "slow.ts");
    await Deno.writeTextFile(handler, versioned("v1", 4000));
    const { daemon, url } = await startHttpDaemon([
      { name: "slow", group: uniqueName("drainedit"), topic, handler },
    ]);
    const of = (msg: string) => daemon.logged(msg).filter((r) => r.consumer === "slow");
    const reloads = () => daemon.logged("config reload");
    try {
      await daemon.waitForLog("consumer started", { timeoutMs: 60_000 });
      await admin.produce(topic, [{ value: "one", partition: 0 }]);
      await daemon.waitForLog("handling", { where: (r) => r.version === "v1" });

      // v2 is checked by the reload; its drain waits for v1's 4 s call in progress.
      await Deno.writeTextFile(handler, versioned("v2"));
      await daemon.waitForLog("worker state", {
        where: (r) => r.consumer === "slow" && r.to === "draining",
      });
      assert.equal(reloads().length, 0, "the reload is applied once the drain ends");
      // Saved while the old worker drains: after the drain, disk holds this, not the checked v2.
      await Deno.writeTextFile(handler, 'throw new Error("half-saved v3");\n');
      const first = await waitFor(() => reloads()[0], { what: "the reload of v2" });
      assert.equal(first.ok, true);
      assert.deepEqual(first.restarted, ["slow"]);

      const second = await waitFor(() => reloads()[1], { what: "the reload of the broken edit" });
      assert.equal(second.ok, false, "the broken version is refused");
      const status = await getStatus(url);
      assert.match(JSON.stringify(status.config.lastReload?.errors), /half-saved v3/);
      const slow = await waitFor(async () => {
        const consumer = (await getStatus(url)).consumers.find((c) => c.name === "slow");
        return ["waiting", "failed", "failing"].includes(String(consumer?.state)) ? consumer : null;
      }, { what: "slow to wait for a checked handler (or to fail)" });
      assert.equal(slow.state, "waiting", `slow is ${slow.state}: ${slow.reason}`);
      assert.match(String(slow.reason), /edited after it was checked/);
      assert.equal(slow.workersUp, 0);
      assert.deepEqual(of("worker restarting"), [], "no worker ran the unchecked module");
      assert.ok(
        !daemon.stderr.join("\n").includes("cannot load handler"),
        "no worker imported the broken module",
      );

      // The fix is checked and started: the reload is not refused for the earlier edit.
      await Deno.writeTextFile(handler, versioned("v4"));
      const third = await waitFor(() => reloads()[2], { what: "the reload of the fix" });
      assert.equal(third.ok, true, JSON.stringify(third));
      assert.deepEqual(third.restarted, ["slow"]);
      await admin.produce(topic, [{ value: "two", partition: 0 }]);
      await daemon.waitForLog("handled", { where: (r) => r.version === "v4" && r.value === "two" });
      assert.deepEqual(
        of("handled").filter((r) => r.version === "v2"),
        [],
        "v2 never ran: it was replaced on disk before its worker started",
      );
    } finally {
      assert.equal(await daemon.stop(), 0);
      await Deno.remove(dir, { recursive: true });
    }
  });
});

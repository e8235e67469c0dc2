/**
 * A consumer's `settings:` reach its handler as `ctx.settings`, in setup()
 * and in every call, without an environment grant; a value from `${VAR}` is
 * never printed by the daemon, and a settings change restarts the consumer.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { getMetrics, getStatus, reloadConsumers, startHttpDaemon } from "../harness/http.ts";
import { uniqueName, withTopic } from "../harness/kafka.ts";

const HANDLER = `let seen;
export function setup(ctx) {
  seen = ctx.settings;
  ctx.log.info("setup settings", { table: ctx.settings.table, tokenLength: ctx.settings.token.length });
}
export default function handle(message, ctx) {
  ctx.log.info("handled settings", {
    table: ctx.settings.table,
    same: ctx.settings === seen,
    tiers: ctx.settings.tiers,
    value: message.text(),
  });
}
`;

Deno.test("settings reach setup() and the handler as ctx.settings; a ${VAR} value is never printed; a change restarts the consumer", async () => {
  await withTopic({ partitions: 1, prefix: "settings" }, async ({ topic, admin }) => {
    const secret = `tok-${crypto.randomUUID()}`;
    const dir = await Deno.makeTempDir({ prefix: "consumerd-settings-" });
    await Deno.writeTextFile(join(dir, "handler.js"), HANDLER);
    const group = uniqueName("settings");
    const consumer = (table: string) => ({
      name: "prices",
      group,
      topic,
      handler: join(dir, "handler.js"),
      settings: { table, token: "${PRICE_TOKEN}", tiers: [1, 2] },
    });
    await admin.produce(topic, [{ value: "one", partition: 0 }]);
    const started = await startHttpDaemon([consumer("orders_v1")], {
      env: { PRICE_TOKEN: secret },
    });
    const { daemon, url } = started;
    try {
      const setup = await daemon.waitForLog("setup settings", { timeoutMs: 60_000 });
      assert.deepEqual([setup.table, setup.tokenLength], ["orders_v1", secret.length]);
      const handled = await daemon.waitForLog("handled settings");
      assert.deepEqual([handled.table, handled.same, handled.tiers], ["orders_v1", true, [1, 2]]);

      // Only the settings change: the consumer is restarted for it.
      const { status, outcome } = await reloadConsumers(started, [consumer("orders_v2")]);
      assert.equal(status, 200, JSON.stringify(outcome));
      assert.deepEqual(outcome.restarted, ["prices"]);
      await daemon.waitForLog("setup settings", { where: (r) => r.table === "orders_v2" });

      const printed = {
        status: JSON.stringify(await getStatus(url)),
        metrics: await getMetrics(url),
        reload: JSON.stringify(outcome),
        log: daemon.stderr.join("\n"),
      };
      for (const [where, text] of Object.entries(printed)) {
        assert.ok(!text.includes(secret), `the settings' secret is in ${where}`);
      }
    } finally {
      assert.equal(await daemon.stop(), 0);
      await Deno.remove(dir, { recursive: true });
    }
  });
});

const SLOW_SETUP = `export async function setup(ctx) {
  ctx.log.info("setup begins", { version: ctx.settings.version });
  await new Promise((r) => setTimeout(r, 2000));
  ctx.log.info("setup done", { version: ctx.settings.version });
}
export default function handle(message, ctx) {
  ctx.log.info("handled settings", { version: ctx.settings.version, value: message.text() });
}
`;

Deno.test("a settings change reloaded while setup() runs: the consumer restarts with the new settings, and only they handle messages", async () => {
  await withTopic({ partitions: 1, prefix: "midsetup" }, async ({ topic, admin }) => {
    const dir = await Deno.makeTempDir({ prefix: "consumerd-midsetup-" });
    await Deno.writeTextFile(join(dir, "handler.js"), SLOW_SETUP);
    const consumer = (version: string) => ({
      name: "prices",
      group: uniqueName("midsetup"),
      topic,
      handler: join(dir, "handler.js"),
      settings: { version },
    });
    const first = consumer("v1");
    await admin.produce(topic, [{ value: "one", partition: 0 }]);
    const started = await startHttpDaemon([first]);
    const { daemon } = started;
    try {
      await daemon.waitForLog("setup begins", { timeoutMs: 60_000 });
      const { status, outcome } = await reloadConsumers(started, [
        { ...first, settings: { version: "v2" } },
      ]);
      assert.equal(status, 200, JSON.stringify(outcome));
      assert.deepEqual(outcome.restarted, ["prices"]);
      const handled = await daemon.waitForLog("handled settings", { timeoutMs: 30_000 });
      assert.equal(handled.version, "v2");
      assert.deepEqual(
        daemon.logged("handled settings").map((r) => r.version),
        ["v2"],
        "the worker stopped in its setup() handled nothing",
      );
    } finally {
      assert.equal(await daemon.stop(), 0);
      await Deno.remove(dir, { recursive: true });
    }
  });
});

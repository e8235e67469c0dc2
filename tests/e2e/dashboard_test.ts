// The dashboard in a real browser: Debian's Chromium driven headless by
// playwright-core loads the page from a running daemon, finds the consumer's
// row, sees its lag change as messages arrive, fits a phone's screen, and
// saves a screenshot (DASHBOARD_SCREENSHOT=docs/dashboard.png to refresh the README's).
import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";
import { fixtureHandler } from "../harness/daemon.ts";
import { requireProgram, startHttpDaemon } from "../harness/http.ts";
import { produceNumbered, uniqueName, waitFor, withTopic } from "../harness/kafka.ts";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

Deno.test("the dashboard shows each consumer's row in Chromium, and the lag changes as messages arrive", async () => {
  const executablePath = await requireProgram("chromium", "chromium");
  await withTopic({ partitions: 2 }, async ({ topic, admin }) => {
    const { daemon, url } = await startHttpDaemon([{
      name: "orders",
      group: uniqueName("g"),
      topic,
      handler: fixtureHandler("slow.ts"),
    }, {
      name: "audit",
      group: uniqueName("g"),
      topic,
      replicas: 2,
      handler: fixtureHandler("quiet.ts"),
    }, {
      name: "invoices",
      group: uniqueName("g"),
      topic,
      handler: fixtureHandler("throws_on_import.ts"),
    }]);
    const browser = await chromium.launch({
      executablePath,
      headless: true,
      args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
    });
    try {
      const page = await browser.newPage({ viewport: { width: 1280, height: 420 } });
      await page.goto(url);
      const row = page.locator('tr[data-consumer="orders"]');
      await row.waitFor({ timeout: 60_000 });
      assert.equal(await page.locator('tr[data-consumer="invoices"]').count(), 1);
      const lagText = () => row.locator("td.lag").innerText();
      await waitFor(async () => (await row.getAttribute("data-state")) === "running", {
        timeoutMs: 60_000,
        what: "orders running on the page",
      });
      const before = await lagText();
      // The slow handler takes 20 ms a message: 400 new messages raise the lag.
      await produceNumbered(admin, topic, { count: 400, partitions: 2 });
      const raised = await waitFor(async () => {
        const text = await lagText();
        return /^\d+$/.test(text) && Number(text) > 20 ? text : null;
      }, {
        timeoutMs: 30_000,
        intervalMs: 200,
        what: `the lag on the page to rise from ${before}`,
      });
      assert.notEqual(raised, before);
      // And it comes down as the handler catches up.
      await waitFor(async () => {
        const text = await lagText();
        return /^\d+$/.test(text) && Number(text) < Number(raised) ? text : null;
      }, { timeoutMs: 60_000, intervalMs: 200, what: "the lag on the page to fall" });
      const failed = page.locator('tr[data-consumer="invoices"]');
      assert.match(await failed.innerText(), /boom while loading the handler/);
      assert.equal(await page.locator("svg.spark").count(), 3, "a sparkline per consumer");

      const screenshot = Deno.env.get("DASHBOARD_SCREENSHOT") ??
        join(ROOT, ".cache", "dashboard.png");
      await Deno.mkdir(join(screenshot, ".."), { recursive: true });
      // Wait for a lag in flight, so that the sparkline shows something.
      await produceNumbered(admin, topic, { count: 300, partitions: 2 });
      await waitFor(async () => Number(await lagText()) > 20, { timeoutMs: 30_000 });
      await page.waitForTimeout(4500);
      await page.screenshot({ path: screenshot, fullPage: true });
      assert.ok((await Deno.stat(screenshot)).size > 10_000, "a screenshot was saved");

      // A phone: the rows become cards that fit the screen's width.
      await page.setViewportSize({ width: 390, height: 844 });
      await page.waitForTimeout(300);
      // Runs in the page (a string: this file is not type-checked against the DOM).
      const overflow = await page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth",
      ) as number;
      assert.ok(overflow <= 1, `no sideways scrolling on a phone (overflow ${overflow}px)`);
      assert.ok(await row.isVisible());
    } finally {
      await browser.close();
      await daemon.stop();
    }
  });
});

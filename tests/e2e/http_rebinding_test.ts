// A web page must not reach the status server on the default loopback listener without a
// token: not by DNS rebinding (its own name pointed at 127.0.0.1, 421), not by a cross-origin
// POST (403). POST /reload runs at most one reload and queues one, however many arrive, and
// /readyz tells a request without the token only a reason code.
import assert from "node:assert/strict";
import { chromium } from "playwright-core";
import { stringify } from "yaml";
import type { ReadinessBody } from "../../src/http/status_body.ts";
import { fixtureHandler } from "../harness/daemon.ts";
import { freePort, rawRequest, requireProgram, startHttpDaemon } from "../harness/http.ts";
import { uniqueName, waitFor } from "../harness/kafka.ts";

/** A consumer whose brokers do not answer: these tests need no Kafka. */
const quiet = (name = "orders") => ({
  name,
  group: uniqueName("g"),
  topic: "orders",
  handler: fixtureHandler("quiet.ts"),
});

for (const runtime of ["deno", "bun"] as const) {
  Deno.test(`on ${runtime}: a request naming another Host gets 421, a cross-origin POST 403; neither reloads`, async () => {
    const { daemon, url } = await startHttpDaemon([quiet()], {
      runtime,
      brokers: [`127.0.0.1:${freePort()}`],
    });
    try {
      const { port } = new URL(url);
      for (const path of ["/status", "/metrics", "/", "/healthz"]) {
        const rebound = await rawRequest(url, { path, headers: { host: `evil.example:${port}` } });
        assert.equal(rebound.status, 421, `${path}: ${rebound.body}`);
        assert.match(rebound.body, /add evil\.example to http\.allowedHosts/);
        assert.doesNotMatch(rebound.body, /orders/, "nothing of the daemon's state");
      }
      const reboundPost = await rawRequest(url, {
        method: "POST",
        path: "/reload",
        headers: { host: `evil.example:${port}` },
      });
      assert.equal(reboundPost.status, 421);
      for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, "localhost:8080"]) {
        const own = await rawRequest(url, { path: "/status", headers: { host } });
        assert.equal(own.status, 200, `${host}: ${own.body}`);
      }
      const noHost = await rawRequest(url, { path: "/status", version: "1.0" });
      assert.equal(noHost.status, 200, `HTTP/1.0 without Host (not a browser): ${noHost.body}`);

      const crossOrigin = await fetch(new URL("reload", url), {
        method: "POST",
        headers: { origin: "http://evil.example" },
      });
      assert.equal(crossOrigin.status, 403);
      assert.match((await crossOrigin.json()).error, /http:\/\/evil\.example \(Origin\)/);
      const crossSite = await fetch(new URL("reload", url), {
        method: "POST",
        headers: { "sec-fetch-site": "cross-site" },
      });
      assert.equal(crossSite.status, 403);
      await crossSite.body?.cancel();
      await new Promise((r) => setTimeout(r, 500));
      assert.equal(daemon.logged("config reload").length, 0, "no reload ran");

      const sameOrigin = await fetch(new URL("reload", url), {
        method: "POST",
        headers: { origin: new URL(url).origin },
      });
      assert.equal(sameOrigin.status, 200, "the server's own origin may reload");
      await sameOrigin.body?.cancel();
      assert.equal(daemon.logged("config reload").length, 1);
    } finally {
      assert.equal(await daemon.stop(), 0);
    }
  });
}

Deno.test("in Chromium, a page on a name rebound to 127.0.0.1 reads nothing, and a page on another origin cannot reload", async () => {
  const executablePath = await requireProgram("chromium", "chromium");
  const { daemon, url } = await startHttpDaemon([quiet()], {
    brokers: [`127.0.0.1:${freePort()}`],
  });
  // The other site: a page on its own port, whose script posts to the daemon.
  const site = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    () =>
      new Response("<!doctype html><title>elsewhere</title>", {
        headers: { "content-type": "text/html" },
      }),
  );
  const browser = await chromium.launch({
    executablePath,
    headless: true,
    // What DNS rebinding achieves: the attacker's names resolve to this machine.
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-dev-shm-usage",
      "--host-resolver-rules=MAP evil.example 127.0.0.1, MAP elsewhere.example 127.0.0.1",
    ],
  });
  try {
    const { port } = new URL(url);
    const page = await browser.newPage();
    const rebound = await page.goto(`http://evil.example:${port}/`);
    assert.equal(rebound?.status(), 421);
    const read = await page.evaluate(async () => {
      const response = await fetch("/status");
      return { status: response.status, text: await response.text() };
    });
    assert.equal(read.status, 421);
    assert.doesNotMatch(read.text, /orders/, "nothing of the daemon's state");

    await page.goto(`http://elsewhere.example:${site.addr.port}/`);
    const posted = await page.evaluate(async (target) => {
      await fetch(target, { method: "POST", mode: "no-cors", body: "x" });
      return true;
    }, new URL("reload", url).href);
    assert.ok(posted);
    await new Promise((r) => setTimeout(r, 1000));
    assert.equal(daemon.logged("config reload").length, 0, "no reload ran");
  } finally {
    await browser.close();
    await site.shutdown();
    assert.equal(await daemon.stop(), 0);
  }
});

Deno.test("a name added to http.allowedHosts by a reload is served; others still get 421", async () => {
  const listen = `127.0.0.1:${freePort()}`;
  const brokers = [`127.0.0.1:${freePort()}`];
  const consumer = quiet();
  const { daemon, url } = await startHttpDaemon([consumer], { brokers, http: { listen } });
  try {
    const named = () =>
      rawRequest(url, { path: "/status", headers: { host: "Consumerd.Internal:9464" } });
    assert.equal((await named()).status, 421, "not listed yet");
    const path = String((await daemon.waitForLog("starting")).config);
    await Deno.writeTextFile(
      path,
      stringify({
        kafka: { brokers },
        http: { listen, allowedHosts: ["consumerd.internal"] },
        consumers: [consumer],
      }),
    );
    daemon.kill("SIGHUP");
    await waitFor(() => daemon.logged("status server listening").length === 2, {
      timeoutMs: 30_000,
      what: "the status server restarted with the new http section",
    });
    const listed = await named();
    assert.equal(listed.status, 200, listed.body);
    const other = await rawRequest(url, { path: "/status", headers: { host: "evil.example" } });
    assert.equal(other.status, 421);
  } finally {
    assert.equal(await daemon.stop(), 0);
  }
});

Deno.test("20 concurrent POST /reload run at most 2 reloads, and every request gets an outcome", async () => {
  const { daemon, url } = await startHttpDaemon([quiet("a"), quiet("b")], {
    brokers: [`127.0.0.1:${freePort()}`],
  });
  try {
    const answers = await Promise.all(
      Array.from({ length: 20 }, () => fetch(new URL("reload", url), { method: "POST" })),
    );
    assert.deepEqual(answers.map((a) => a.status), Array(20).fill(200));
    const outcomes = await Promise.all(answers.map((a) => a.json()));
    assert.ok(outcomes.every((o) => o.ok === true), "each says how its reload went");
    await new Promise((r) => setTimeout(r, 1000));
    const reloads = daemon.logged("config reload").length;
    assert.ok(reloads >= 1 && reloads <= 2, `${reloads} reloads for 20 requests`);
  } finally {
    assert.equal(await daemon.stop(), 0);
  }
});

Deno.test("/readyz without the token gives reason codes, no exception text, paths or broker addresses", async () => {
  const broker = `127.0.0.1:${freePort()}`;
  const token = `t-${uniqueName("secret")}`;
  const { daemon, url } = await startHttpDaemon([
    { ...quiet("broken"), handler: fixtureHandler("throws_on_import.ts") },
    quiet("early"),
  ], {
    brokers: [broker],
    http: { listen: "127.0.0.1:0", token: "${CONSUMERD_TOKEN}" },
    env: { CONSUMERD_TOKEN: token },
  });
  try {
    const readyz = async (headers: Record<string, string> = {}) => {
      const response = await fetch(new URL("readyz", url), { headers });
      assert.equal(response.status, 503);
      const text = await response.text();
      return { text, body: JSON.parse(text) as ReadinessBody };
    };
    const reasonOf = (body: ReadinessBody, consumer: string) =>
      body.notReady.find((n) => n.consumer === consumer)?.reason;
    // With the token: the reasons in full, once both consumers got that far.
    const detailed = await waitFor(async () => {
      const { body } = await readyz({ authorization: `Bearer ${token}` });
      return /boom while loading the handler/.test(reasonOf(body, "broken") ?? "") &&
          (reasonOf(body, "early") ?? "").includes(broker)
        ? body
        : null;
    }, { timeoutMs: 60_000, what: "both reasons in /readyz with the token" });
    assert.match(reasonOf(detailed, "broken")!, /throws_on_import\.ts/);

    const { text, body } = await readyz();
    assert.ok(
      ["worker-failed", "restarting-too-often"].includes(reasonOf(body, "broken") ?? ""),
      text,
    );
    assert.equal(reasonOf(body, "early"), "waiting-for-kafka");
    assert.doesNotMatch(text, /boom|Error/, "no exception text");
    assert.doesNotMatch(text, /\//, "no path");
    assert.ok(!text.includes(broker), "no broker address");
  } finally {
    assert.equal(await daemon.stop(), 0);
  }
});

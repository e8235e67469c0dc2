import assert from "node:assert/strict";
import { join } from "node:path";
import { parseConfig } from "../../../src/config/parse.ts";
import {
  fileSnapshot,
  planCommand,
  planDiff,
  renderPlan,
  runningConfig,
} from "../../../src/cli/plan.ts";
import { createLogger } from "../../../src/log.ts";
import { runtime } from "../../../src/runtime/mod.ts";
import { Reloader } from "../../../src/supervisor/reload.ts";

const consumer = (name: string, extra = "") =>
  `  - { name: ${name}, group: g-${name}, topic: t, handler: ./${name}.ts${extra} }`;
const yaml = (...consumers: string[]) =>
  ["kafka:", "  brokers: k:9092", "consumers:", ...consumers].join("\n") + "\n";

/** A /status body as the daemon builds it for a config. */
async function statusOf(text: string, dir: string, revision = 3) {
  const config = parseConfig(text, { file: join(dir, "consumers.yaml") });
  const snapshot = await fileSnapshot(config);
  return {
    config: {
      path: config.path,
      revision,
      lastReload: null,
      fingerprints: { kafka: snapshot.kafka, http: snapshot.http },
    },
    consumers: snapshot.consumers.map(({ name, ...fingerprint }) => ({
      name,
      state: "running",
      fingerprint,
    })),
  };
}

Deno.test("runningConfig() names the field a /status body lacks", () => {
  assert.throws(() => runningConfig({ consumers: [] }), /no config \(an object\)/);
  assert.throws(
    () =>
      runningConfig({
        config: { fingerprints: { kafka: "k", http: "h" } },
        consumers: [{ name: "a" }],
      }),
    /no consumers\[0\]\.fingerprint/,
  );
});

Deno.test("renderPlan() lists each consumer's fate and the totals", () => {
  const diff = {
    kafkaChanged: false,
    httpChanged: true,
    added: ["billing"],
    removed: ["audit"],
    restarted: [{ name: "orders", reasons: ["handler" as const] }],
    scaled: [{ name: "payments", from: 1, to: 3 }],
    unchanged: ["shipping"],
  };
  const lines = renderPlan(diff, { file: "/srv/c.yaml", url: "http://d:9464", revision: 3 });
  assert.deepEqual(lines, [
    "reload plan for /srv/c.yaml against http://d:9464 (running revision 3):",
    "  + billing                  start",
    "  - audit                    drain and stop",
    "  ~ orders                   drain and restart (handler module changed)",
    "  ^ payments                 scale from 1 to 3 replicas",
    "  = shipping                 leave alone",
    "  kafka: unchanged; http: changed (the status server rebinds)",
    "a reload would start 1, stop 1, restart 1, scale 1, leave alone 1",
  ]);
});

Deno.test("renderPlan() says a consumer changed by kafka: alone reconnects, not restarts", () => {
  const diff = {
    kafkaChanged: true,
    httpChanged: false,
    added: [],
    removed: [],
    restarted: [
      { name: "audit", reasons: ["kafka" as const] },
      { name: "orders", reasons: ["definition" as const, "kafka" as const] },
    ],
    scaled: [],
    unchanged: [],
  };
  const lines = renderPlan(diff, { file: "/srv/c.yaml", url: "http://d:9464", revision: 3 });
  assert.deepEqual(lines, [
    "reload plan for /srv/c.yaml against http://d:9464 (running revision 3):",
    "  ~ audit                    drain and reconnect (kafka changed; resumes, resets nothing)",
    "  ~ orders                   drain and restart (definition changed, kafka changed)",
    "  kafka: changed (every consumer reconnects); http: unchanged",
    "a reload would restart 1, reconnect 1",
  ]);
});

Deno.test("planCommand() prints what a reload would do, read from a daemon's /status", async () => {
  const dir = await Deno.makeTempDir();
  for (const name of ["a", "b", "c", "d"]) {
    await Deno.writeTextFile(join(dir, `${name}.ts`), "export default () => {};\n");
  }
  const status = await statusOf(yaml(consumer("a"), consumer("b"), consumer("c")), dir);
  await Deno.writeTextFile(join(dir, "b.ts"), "export default () => { /* edited */ };\n");
  await Deno.writeTextFile(
    join(dir, "consumers.yaml"),
    yaml(consumer("a"), consumer("b"), consumer("d", ", replicas: 2")),
  );
  const server = Deno.serve(
    { port: 0, hostname: "127.0.0.1", onListen() {} },
    () => Response.json(status),
  );
  try {
    const out: string[] = [];
    const code = await planCommand(
      { config: join(dir, "consumers.yaml"), url: `http://127.0.0.1:${server.addr.port}` },
      { out: (l) => out.push(l), err: (l) => out.push(`ERR ${l}`) },
    );
    assert.equal(code, 0, out.join("\n"));
    assert.match(out.join("\n"), /\+ d +start/);
    assert.match(out.join("\n"), /- c +drain and stop/);
    assert.match(out.join("\n"), /~ b +drain and restart \(handler module changed\)/);
    assert.match(out.join("\n"), /= a +leave alone/);
    assert.equal(out.at(-1), "a reload would start 1, stop 1, restart 1, leave alone 1");

    const bad: string[] = [];
    await Deno.writeTextFile(join(dir, "consumers.yaml"), yaml(consumer("a", ", replicas: x")));
    assert.equal(
      await planCommand({ config: join(dir, "consumers.yaml"), url: "http://127.0.0.1:1" }, {
        out: (l) => bad.push(l),
        err: (l) => bad.push(l),
      }),
      1,
    );
    assert.match(
      bad.join("\n"),
      /consumers\.yaml:4:\d+ consumers\[0\]\.replicas: expected an integer/,
    );
  } finally {
    await server.shutdown();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("planDiff() ignores handler fingerprints when the file turns handler watching off", () => {
  const running = {
    kafka: "k",
    http: "h",
    consumers: [{ name: "a", definition: "d", handler: "x", replicas: 1 }],
  };
  const file = {
    kafka: "k",
    http: "h",
    consumers: [{ name: "a", definition: "d", handler: "y", replicas: 1 }],
  };
  assert.deepEqual(planDiff(running, file, false).unchanged, ["a"]);
  assert.deepEqual(planDiff(running, file, true).restarted, [{ name: "a", reasons: ["handler"] }]);
});

Deno.test("the fingerprints a daemon reports equal those check --diff computes from the same file", async () => {
  const dir = await Deno.makeTempDir();
  await Deno.writeTextFile(join(dir, "a.ts"), "export default () => {};\n");
  const text = [
    "kafka:",
    "  brokers: k:9092",
    "  sasl: { mechanism: plain, username: u, password: secret }",
    "consumers:",
    consumer("a", ", replicas: 2"),
  ].join("\n");
  const config = parseConfig(text, { file: join(dir, "consumers.yaml") });
  const reloader = new Reloader(config, {
    runtime,
    logger: createLogger({ format: "json" }),
    current: () => config,
    apply: () => Promise.resolve(),
  });
  try {
    await reloader.init();
    const file = await fileSnapshot(config);
    const state = reloader.state();
    assert.deepEqual(state.fingerprints, { kafka: file.kafka, http: file.http });
    assert.equal(state.revision, 1);
    const { name: _, ...expected } = file.consumers[0]!;
    assert.deepEqual(reloader.fingerprint("a"), expected);
    assert.ok(!JSON.stringify(state).includes("secret"));
  } finally {
    reloader.close();
    await Deno.remove(dir, { recursive: true });
  }
});

/**
 * `consumerd check` as a process: it imports each handler with exactly the
 * permissions its worker will have, so a handler that cannot start in its
 * worker fails the check too.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { stringify } from "yaml";
import { BROKERS, withTopic } from "../harness/kafka.ts";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

/** Runs `src/main.ts check --config <path> [args]` on Deno; exit code and output lines. */
async function check(
  config: string,
  env: Record<string, string> = {},
  args: string[] = [],
): Promise<{ code: number; out: string[]; err: string[] }> {
  const output = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      "--unstable-worker-options",
      join(ROOT, "src", "main.ts"),
      "check",
      "--config",
      config,
      ...args,
    ],
    cwd: ROOT,
    env,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const lines = (bytes: Uint8Array) =>
    new TextDecoder().decode(bytes).split("\n").filter((l) => l !== "");
  return { code: output.code, out: lines(output.stdout), err: lines(output.stderr) };
}

/** A config directory with `handler.ts` and a consumers.yaml of one consumer using it. */
async function project(
  handler: string,
  consumer: Record<string, unknown> = {},
): Promise<{ dir: string; config: string }> {
  const dir = await Deno.makeTempDir({ prefix: "consumerd-check-" });
  await Deno.writeTextFile(join(dir, "handler.ts"), handler);
  const config = join(dir, "consumers.yaml");
  await Deno.writeTextFile(
    config,
    stringify({
      kafka: { brokers: BROKERS },
      consumers: [{
        name: "price-orders",
        group: "g",
        topic: "t",
        handler: "./handler.ts",
        ...consumer,
      }],
    }),
  );
  return { dir, config };
}

const READS_ENV_AT_IMPORT = 'const url = Deno.env.get("PRICE_URL") ?? "http://localhost";\n' +
  "export default function handle() { return url; }\n";

Deno.test("check fails on a handler whose import reads an environment variable its consumer does not grant", async () => {
  const { dir, config } = await project(READS_ENV_AT_IMPORT);
  try {
    const { code, out, err } = await check(config, { PRICE_URL: "http://prices" });
    assert.equal(code, 1, `check said:\n${[...out, ...err].join("\n")}`);
    // In the config's terms: which consumer, what it needs, the key that grants it and its line.
    assert.deepEqual(err, [
      `${config}:8:14 consumers[0].handler: consumers[0] (price-orders): the handler needs env ` +
      `access to PRICE_URL — add it to consumers[0].permissions.env (${config}:5)`,
    ]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("check passes the same handler once its consumer grants the variable, set or not", async () => {
  const { dir, config } = await project(READS_ENV_AT_IMPORT, {
    permissions: { env: ["PRICE_URL"] },
  });
  try {
    const { code, out, err } = await check(config);
    assert.equal(code, 0, `check said:\n${[...out, ...err].join("\n")}`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("check --diff imports handlers with their workers' permissions too", async () => {
  const { dir, config } = await project(READS_ENV_AT_IMPORT);
  try {
    // The file is refused before any daemon is asked.
    const { code, out, err } = await check(config, { PRICE_URL: "http://prices" }, [
      "--diff",
      "--url",
      "http://127.0.0.1:1",
    ]);
    assert.equal(code, 1, `check --diff said:\n${[...out, ...err].join("\n")}`);
    assert.match(err[0] ?? "", /the handler needs env access to PRICE_URL/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("check says a handler's bare import must come from its own project: consumerd's own packages are not lent to it", async () => {
  const { dir, config } = await project(
    'import { Kafka } from "kafkajs";\nexport default function handle() { return Kafka; }\n',
  );
  try {
    await Deno.writeTextFile(join(dir, "package.json"), '{ "name": "p", "private": true }\n');
    const { code, out, err } = await check(config);
    assert.equal(code, 1, `check said:\n${[...out, ...err].join("\n")}`);
    assert.match(
      err.join("\n"),
      new RegExp(
        `consumers\\[0\\]\\.handler: the handler imports "kafkajs", which its project does not ` +
          `have: run \`npm install kafkajs\` in ${
            dir.replaceAll(/[.]/g, "\\.")
          } \\(the directory ` +
          "of its package\\.json\\)",
      ),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("check says npm: specifiers are not how a handler gets its packages", async () => {
  const { dir, config } = await project(
    'import pad from "npm:left-pad@1";\nexport default function handle() { return pad; }\n',
  );
  try {
    const { code, out, err } = await check(config);
    assert.equal(code, 1, `check said:\n${[...out, ...err].join("\n")}`);
    assert.match(
      err.join("\n"),
      /the handler imports "npm:left-pad@1": a handler's packages come from the node_modules of its project, on every runtime — add a package\.json beside the handler, run `npm install left-pad@1` there, and import "left-pad"/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("check warns, exit 0, about a topic, dead-letter topic or output topic that does not exist, at its line; and says when it could not look", async () => {
  await withTopic({ partitions: 1, prefix: "checked" }, async ({ topic }) => {
    const dir = await Deno.makeTempDir({ prefix: "consumerd-check-" });
    try {
      await Deno.writeTextFile(join(dir, "handler.ts"), "export default function handle() {}\n");
      const config = join(dir, "consumers.yaml");
      const write = (brokers: string[]) =>
        Deno.writeTextFile(
          config,
          [
            `kafka: { brokers: ${JSON.stringify(brokers)} }`,
            "defaults:",
            "  deadLetterTopic: orders.dlq-missing",
            "consumers:",
            `  - { name: here, group: g, topic: ${topic}, handler: ./handler.ts }`,
            "  - name: gone",
            "    group: g",
            "    topic: orders-missing",
            "    handler: ./handler.ts",
            `    outputs: [${topic}, orders.out-missing]`,
          ].join("\n"),
        );
      await write(BROKERS);
      const found = await check(config);
      assert.equal(found.code, 0, found.err.join("\n"));
      assert.equal(found.out[0], "ok");
      assert.deepEqual(found.err, [
        `${config}:3:20 defaults.deadLetterTopic: warning: dead-letter topic ` +
        `"orders.dlq-missing" does not exist: a message whose attempts are spent cannot be ` +
        `dead-lettered, and its partition pauses (for consumers[0] "here", consumers[1] "gone")`,
        `${config}:8:12 consumers[1].topic: warning: topic "orders-missing" does not exist: ` +
        "the consumer waits for it (consumerd creates no topics)",
        `${config}:10:${17 + topic.length} consumers[1].outputs[1]: warning: output topic ` +
        `"orders.out-missing" does not exist: ctx.produce() to it fails, and so does the call ` +
        "that made it",
      ]);

      await write(["127.0.0.1:9"]);
      const unreachable = await check(config);
      assert.equal(unreachable.code, 0, unreachable.err.join("\n"));
      assert.deepEqual(unreachable.err, [
        "warning: cannot reach brokers 127.0.0.1:9: connection refused: topics not checked",
      ]);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });
});

Deno.test("check passes a handler whose package is linked into node_modules from elsewhere (npm install <dir>, workspaces)", async () => {
  const root = await Deno.makeTempDir({ prefix: "consumerd-check-linked-" });
  try {
    const lib = join(root, "order-pricing");
    await Deno.mkdir(lib);
    await Deno.writeTextFile(
      join(lib, "package.json"),
      '{ "name": "order-pricing", "version": "1.0.0", "type": "module", "exports": "./index.js" }',
    );
    await Deno.writeTextFile(
      join(lib, "index.js"),
      'import { readFileSync } from "node:fs";\n' +
        'export const rates = JSON.parse(readFileSync(new URL("./rates.json", import.meta.url), "utf8"));\n',
    );
    await Deno.writeTextFile(join(lib, "rates.json"), '{ "apple": 3 }');
    const { dir, config } = await project(
      'import { rates } from "order-pricing";\nexport default function handle() { return rates; }\n',
    );
    try {
      await Deno.writeTextFile(join(dir, "package.json"), '{ "name": "p", "private": true }\n');
      // What npm install <dir> and npm workspaces leave: a link to the package's own directory.
      await Deno.mkdir(join(dir, "node_modules"));
      await Deno.symlink(lib, join(dir, "node_modules", "order-pricing"));
      const { code, out, err } = await check(config);
      assert.equal(code, 0, `check said:\n${[...out, ...err].join("\n")}`);
      // The summary names the project, which its workers may read whole.
      assert.match(out[1] ?? "", / project=\S+consumerd-check-[^/ ]+$/);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

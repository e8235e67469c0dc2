/**
 * A handler project outside the repository — its own package.json, an npm
 * dependency installed beside it, a local module — consumes and commits on
 * Deno (sandboxed; workers from the sources and from the worker bundle), on
 * Bun, and in the compiled binary. The dependency is
 * a tiny pure-JS package packed and installed from a tarball by the test
 * (as from a registry, without one): it reads a data file of its own at
 * import, which a sandboxed worker may do only inside the handler's project.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { stringify } from "yaml";
import { compileDaemon } from "../../scripts/compile.ts";
import { packageWithBundle } from "../harness/bundle.ts";
import { daemonCommand, type DaemonProcess, spawnDaemon, startDaemon } from "../harness/daemon.ts";
import { BROKERS, uniqueName, waitFor, withTopic } from "../harness/kafka.ts";

/** The npm package the handler depends on: prices from a rates file it reads itself. */
const PACKAGE = {
  "package.json": JSON.stringify({
    name: "order-pricing",
    version: "1.0.0",
    type: "module",
    exports: { ".": "./index.js" },
  }),
  "index.js": `import { readFileSync } from "node:fs";
const rates = JSON.parse(readFileSync(new URL("./rates.json", import.meta.url), "utf8"));
export function price(order) {
  return order.quantity * rates[order.sku];
}
`,
  "rates.json": JSON.stringify({ apple: 3, pear: 5 }),
};

const HANDLER = `import { price } from "order-pricing";
import { describe } from "./format.ts";

export default function handle(message, ctx) {
  const order = message.json();
  ctx.log.info("priced", { offset: message.offset, total: price(order), line: describe(order) });
}
`;
const FORMAT = `export function describe(order) {
  return order.quantity + " x " + order.sku;
}
`;

/** Runs `npm` in `cwd`; throws with its output when it fails. */
async function npm(args: string[], cwd: string): Promise<string> {
  const out = await new Deno.Command("npm", {
    args: [...args, "--no-audit", "--no-fund", "--loglevel=error"],
    cwd,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
  if (!out.success) throw new Error(`npm ${args.join(" ")} failed:\n${text}`);
  return text;
}

/** Writes `files` into `dir`. */
async function writeFiles(dir: string, files: Record<string, string>): Promise<void> {
  await Deno.mkdir(dir, { recursive: true });
  for (const [name, text] of Object.entries(files)) await Deno.writeTextFile(join(dir, name), text);
}

/**
 * A handler project in `dir`: package.json with `order-pricing` installed
 * from a tarball (npm pack, npm install), the handler and a local module.
 */
async function handlerProject(dir: string): Promise<void> {
  const source = join(dir, "..", "order-pricing");
  await writeFiles(source, PACKAGE);
  const tarball = (await npm(["pack", "--pack-destination", join(dir, "..")], source)).trim()
    .split("\n").at(-1)!;
  await writeFiles(dir, {
    "package.json": JSON.stringify({ name: "price-orders", private: true, type: "module" }),
    "handler.ts": HANDLER,
    "format.ts": FORMAT,
  });
  await npm(["install", join(dir, "..", tarball)], dir);
}

Deno.test("a handler project outside the repository, with an npm dependency, consumes and commits on Deno (sources and bundle), Bun and the compiled binary", async () => {
  await withTopic({ partitions: 2, prefix: "project" }, async ({ topic, admin }) => {
    const root = await Deno.makeTempDir({ prefix: "consumerd-project-" });
    const project = join(root, "price-orders");
    const daemons: Record<string, DaemonProcess> = {};
    const cleanup = [root];
    try {
      const [, binary, bundled] = await Promise.all([
        handlerProject(project),
        compileDaemon(join(root, "consumerd")).then(() => join(root, "consumerd")),
        packageWithBundle(),
      ]);
      cleanup.push(bundled);
      const orders = Array.from({ length: 20 }, (_, i) => ({
        sku: i % 2 === 0 ? "apple" : "pear",
        quantity: i + 1,
      }));
      await admin.produce(
        topic,
        orders.map((o, i) => ({ value: JSON.stringify(o), partition: i % 2 })),
      );
      const groups: Record<string, string> = {};
      const config = async (name: string) => {
        groups[name] = uniqueName(`project-${name}`);
        const path = join(project, `${name}.yaml`);
        await Deno.writeTextFile(
          path,
          stringify({
            kafka: { brokers: BROKERS },
            http: { listen: false },
            consumers: [{
              name: "price-orders",
              group: groups[name],
              topic,
              handler: "./handler.ts",
              commit: { mode: "auto", intervalMs: 200 },
            }],
          }),
        );
        return path;
      };
      daemons.deno = startDaemon(await config("deno"));
      daemons.bun = startDaemon(await config("bun"), { runtime: "bun" });
      daemons.binary = spawnDaemon(binary, ["run", "--config", await config("binary")], {
        cwd: root,
      });
      const [command, args] = daemonCommand(
        join(bundled, "src", "main.ts"),
        await config("bundle"),
        "deno",
      );
      daemons.bundle = spawnDaemon(command, args, { cwd: bundled });
      const expected = orders.map((o) => o.quantity * (o.sku === "apple" ? 3 : 5)).sort();
      for (const [name, daemon] of Object.entries(daemons)) {
        const priced = await waitFor(() => {
          const failed = daemon.logged("worker terminated")[0];
          if (failed) throw new Error(`${name}: ${failed.reason}`);
          const records = daemon.logged("priced");
          return records.length >= orders.length ? records : null;
        }, { what: `${name}: every order priced`, timeoutMs: 60_000 }).catch((error) => {
          throw new Error(`${error.message}\n${daemon.stderr.slice(-10).join("\n")}`);
        });
        assert.deepEqual(priced.map((r) => r.total).sort(), expected, name);
        assert.ok(priced.every((r) => /^\d+ x (apple|pear)$/.test(String(r.line))), name);
      }
      assert.equal(daemons.bundle.logged("starting")[0]?.workers, "bundle");
      for (const [name, daemon] of Object.entries(daemons)) {
        assert.equal(await daemon.stop(), 0, `${name} drains and exits 0`);
        assert.deepEqual(
          (await admin.committed(groups[name]!, topic)).map((c) => c.offset),
          ["10", "10"],
          `${name} committed every message`,
        );
      }
    } finally {
      for (const daemon of Object.values(daemons)) daemon.kill("SIGKILL");
      for (const dir of cleanup) await Deno.remove(dir, { recursive: true });
    }
  });
});

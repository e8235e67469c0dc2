/**
 * `consumerd init <dir>`: scaffolds a handler project — a handler, the
 * handler API's declarations, a config that `check` accepts, a
 * package.json for its npm dependencies, and a test that calls the handler
 * with a fake context (`deno test`).
 *
 * @module
 */
import { mkdir, readdir, writeFile } from "node:fs/promises";
import { basename, join, resolve } from "node:path";
import type { CommandOutput } from "./check.ts";
import { HANDLER_API } from "./handler_api.ts";

/**
 * A consumer name made of a directory's name: lowercase, `[a-z0-9._-]`
 * only (`Price Orders` → `price-orders`); `handler` when nothing is left.
 *
 * @example
 * ```ts
 * projectName("/srv/Price Orders"); // "price-orders"
 * ```
 */
export function projectName(dir: string): string {
  const name = basename(resolve(dir)).toLowerCase().replace(/[^a-z0-9._-]+/g, "-")
    .replace(/^[-.]+|[-.]+$/g, "").slice(0, 100);
  return name === "" ? "handler" : name;
}

const HANDLER = `import type { Context, Message } from "./consumerd.d.ts";

/** What this consumer's \`settings:\` in consumers.yaml hold. */
export interface Settings {
  greeting: string;
}

/** Called once per message, in offset order within a partition. */
export default function handle(message: Message, ctx: Context<Settings>): void {
  ctx.log.info(ctx.settings.greeting, { offset: message.offset, value: message.text() });
}
`;

const TEST = `import type { Context, LogFields, Logger, Message } from "./consumerd.d.ts";
import handle, { type Settings } from "./handler.ts";

/** Throws unless actual and expected are the same JSON (no packages needed to test). */
function assertEqual(actual: unknown, expected: unknown): void {
  const [a, e] = [JSON.stringify(actual), JSON.stringify(expected)];
  if (a !== e) throw new Error(\`expected \${e}, found \${a}\`);
}

/** A message as consumerd hands it to the handler. */
function message(value: string, offset = "0"): Message {
  const bytes = new TextEncoder().encode(value);
  return {
    topic: "orders",
    partition: 0,
    offset,
    key: null,
    value: bytes,
    headers: {},
    timestamp: String(Date.now()),
    text: () => value,
    json: <T>() => JSON.parse(value) as T,
  };
}

/** A context whose logger keeps what it is given. */
function context(settings: Settings): { ctx: Context<Settings>; logged: LogFields[] } {
  const logged: LogFields[] = [];
  const log: Logger = {
    debug: (msg, fields) => logged.push({ level: "debug", msg, ...fields }),
    info: (msg, fields) => logged.push({ level: "info", msg, ...fields }),
    warn: (msg, fields) => logged.push({ level: "warn", msg, ...fields }),
    error: (msg, fields) => logged.push({ level: "error", msg, ...fields }),
    child: () => log,
  };
  const ctx: Context<Settings> = {
    consumer: "test",
    group: "test",
    topic: "orders",
    settings,
    log,
    commit: () => Promise.resolve(),
    ack: () => {},
    produce: () => Promise.resolve(),
    signal: new AbortController().signal,
  };
  return { ctx, logged };
}

Deno.test("handle() logs each message with the greeting from its settings", async () => {
  const { ctx, logged } = context({ greeting: "hello" });
  await handle(message("order 1", "41"), ctx);
  assertEqual(logged, [{ level: "info", msg: "hello", offset: "41", value: "order 1" }]);
});
`;

/** The files of a new project named `name`, by file name. */
function projectFiles(name: string): Record<string, string> {
  const config =
    `# A consumer of this handler project; check it with: consumerd check --config consumers.yaml
kafka:
  brokers: ["\${KAFKA_BROKERS:-127.0.0.1:9092}"]
consumers:
  - name: ${name}
    group: ${name}
    topic: orders
    handler: ./handler.ts # relative to this file
    settings: { greeting: hello } # the handler's ctx.settings
    permissions: { net: [], env: [] } # what the handler may reach besides its project
`;
  return {
    "consumerd.d.ts": HANDLER_API,
    "consumers.yaml": config,
    "handler.ts": HANDLER,
    "handler_test.ts": TEST,
    "package.json": `${JSON.stringify({ name, private: true, type: "module" }, null, 2)}\n`,
  };
}

/**
 * Writes a new handler project into `dir` (created when missing); refuses,
 * with exit code 1, when any of its files is already there.
 *
 * @example
 * ```ts
 * await initCommand({ dir: "price-orders" });
 * ```
 */
export async function initCommand(
  { dir }: { dir: string },
  { out = console.log, err = console.error }: CommandOutput = {},
): Promise<number> {
  const files = projectFiles(projectName(dir));
  const names = Object.keys(files).sort();
  const present = new Set(await readdir(dir).catch(() => [] as string[]));
  const taken = names.filter((name) => present.has(name));
  if (taken.length > 0) {
    err(
      `error: ${dir} already has ${taken.join(", ")}; init writes only into a directory ` +
        `without ${names.join(", ")}`,
    );
    return 1;
  }
  try {
    await mkdir(dir, { recursive: true });
    for (const name of names) await writeFile(join(dir, name), files[name]!, { flag: "wx" });
  } catch (error) {
    err(
      `error: cannot write into ${dir}: ${error instanceof Error ? error.message : String(error)}`,
    );
    return 1;
  }
  for (const name of names) out(`wrote ${join(dir, name)}`);
  out(
    `next: cd ${dir}; npm install <the packages your handler imports>; deno test; ` +
      "consumerd check --config consumers.yaml; consumerd run --config consumers.yaml",
  );
  return 0;
}

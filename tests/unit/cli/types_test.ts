import assert from "node:assert/strict";
import { join } from "node:path";
import { handlerApiModule, readHandlerApi } from "../../../scripts/handler_api.ts";
import { HANDLER_API } from "../../../src/cli/handler_api.ts";
import { typesCommand } from "../../../src/cli/types.ts";

/** A handler that uses every part of the handler API. */
const HANDLER = (types: string) =>
  `import type { Context, HandlerModule, Logger, Message } from "${types}";

interface Settings {
  table: string;
}

export function setup(ctx: Context<Settings>): void {
  const log: Logger = ctx.log.child({ table: ctx.settings.table });
  log.info("ready", { group: ctx.group, topic: ctx.topic, consumer: ctx.consumer });
}

export default async function handle(message: Message, ctx: Context<Settings>): Promise<void> {
  const order = message.json<{ id: string }>();
  const headers: Uint8Array | Uint8Array[] | undefined = message.headers["trace"];
  if (ctx.signal.aborted || headers === undefined) return;
  ctx.log.info("order", { id: order.id, offset: message.offset, text: message.text() });
  await ctx.commit();
}

export const module: HandlerModule = { default: (m, c) => c.ack(m) };
`;

async function denoCheck(dir: string, ...files: string[]): Promise<{ code: number; text: string }> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["check", "--quiet", "--no-config", ...files],
    cwd: dir,
    stdout: "piped",
    stderr: "piped",
  }).output();
  return { code: out.code, text: new TextDecoder().decode(out.stderr) };
}

Deno.test("src/cli/handler_api.ts is up to date with the types src/mod.ts exports", async () => {
  assert.equal(
    handlerApiModule(await readHandlerApi()),
    await Deno.readTextFile(new URL("../../../src/cli/handler_api.ts", import.meta.url)),
    "stale: run deno task generate",
  );
});

Deno.test("typesCommand() writes a self-contained declaration file that a handler outside the repository type-checks against, as against src/mod.ts", async () => {
  const dir = await Deno.makeTempDir({ prefix: "consumerd-types-" });
  try {
    const lines: string[] = [];
    const out = join(dir, "consumerd.d.ts");
    assert.equal(await typesCommand({ out }, { out: (l) => lines.push(l) }), 0);
    assert.deepEqual(lines, [`wrote ${out}`]);
    assert.equal(await Deno.readTextFile(out), HANDLER_API);
    assert.doesNotMatch(HANDLER_API, /^import /m, "self-contained");

    // The same handler against the declaration file and against src/mod.ts.
    await Deno.writeTextFile(join(dir, "handler.ts"), HANDLER("./consumerd.d.ts"));
    const mod = new URL("../../../src/mod.ts", import.meta.url).href;
    await Deno.writeTextFile(join(dir, "same.ts"), HANDLER(mod));
    const both = await denoCheck(dir, "handler.ts", "same.ts");
    assert.equal(both.code, 0, both.text);

    // Typed, not `any`: a misspelt field fails.
    await Deno.writeTextFile(
      join(dir, "wrong.ts"),
      'import type { Context, Message } from "./consumerd.d.ts";\n' +
        "export default function handle(m: Message, ctx: Context): string { return ctx.nope + m.offset; }\n",
    );
    const wrong = await denoCheck(dir, "wrong.ts");
    assert.equal(wrong.code, 1);
    assert.match(wrong.text, /Property 'nope' does not exist on type 'Context<unknown>'/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("typesCommand() without --out prints the declarations", async () => {
  const lines: string[] = [];
  assert.equal(await typesCommand({}, { out: (l) => lines.push(l) }), 0);
  assert.deepEqual(lines, [HANDLER_API.trimEnd()]);
});

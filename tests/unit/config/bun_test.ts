import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

const BUN = fileURLToPath(new URL("../../../node_modules/.bin/bun", import.meta.url));
const PROBE = fileURLToPath(new URL("./fixtures/runtime_probe.ts", import.meta.url));

async function run(command: string, args: string[]): Promise<unknown> {
  const { code, stdout, stderr } = await new Deno.Command(command, {
    args,
    env: { CONSUMERD_PROBE_SECRET: "probe-secret" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(stdout);
  assert.equal(code, 0, new TextDecoder().decode(stderr));
  return JSON.parse(text);
}

Deno.test({
  name: "config modules behave the same under Bun and Deno",
  ignore: !existsSync(BUN),
  fn: async () => {
    const onBun = await run(BUN, ["run", PROBE]);
    const onDeno = await run(Deno.execPath(), ["run", "-A", PROBE]);
    assert.deepEqual(onBun, onDeno);
    assert.deepEqual(onBun, {
      consumers: [["single", "fixtures", "orders", "auto"], [
        "batch",
        "fixtures",
        "payments",
        "manual",
      ]],
      issues: [
        {
          file: "bad.yaml",
          line: 2,
          column: 5,
          path: "consumers[0].group",
          message:
            'missing required field "group" (a string): set it in the consumer or in defaults',
        },
        {
          file: "bad.yaml",
          line: 2,
          column: 5,
          path: "consumers[0].topic",
          message:
            'missing required field "topic" (a string): set it in the consumer or in defaults',
        },
        {
          file: "bad.yaml",
          line: 2,
          column: 5,
          path: "consumers[0].handler",
          message:
            'missing required field "handler" (a string): set it in the consumer or in defaults',
        },
        {
          file: "bad.yaml",
          line: 3,
          column: 22,
          path: "consumers[0].autoOffsetReset",
          message: 'expected one of "earliest", "latest", "EARLIEST", "LATEST", found "earlist" ' +
            '(did you mean "earliest"?)',
        },
      ],
      handlerIssues: [["consumers[0].handler", 5, "handler file not found"]],
      password: "probe-secret",
      redacted: "[redacted]",
      schemaLength: (onDeno as { schemaLength: number }).schemaLength,
    });
  },
});

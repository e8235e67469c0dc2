import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { consumersJsonSchema, consumersJsonSchemaText } from "../../../src/config/json_schema.ts";
import { generateSchema, jsonSchemaFile } from "../../../src/config/generate_schema.ts";

Deno.test("config/consumers.schema.json is up to date with the zod schema", async () => {
  const checkedIn = await readFile(jsonSchemaFile, "utf8");
  assert.equal(
    checkedIn,
    consumersJsonSchemaText(),
    "config/consumers.schema.json is stale: run `deno run -A src/config/generate_schema.ts`",
  );
  assert.equal(await generateSchema({ check: true }), 0);
});

Deno.test("consumersJsonSchema() describes the file as written, with defaults", () => {
  const schema = consumersJsonSchema() as {
    required: string[];
    additionalProperties: boolean;
    properties: {
      consumers: {
        items: { required: string[]; properties: Record<string, Record<string, unknown>> };
      };
      shutdown: { properties: { gracePeriodMs: { default: number } } };
    };
  };
  assert.deepEqual(schema.required, ["consumers"]);
  assert.equal(schema.additionalProperties, false);
  const consumer = schema.properties.consumers.items;
  assert.deepEqual(consumer.required, ["name"]);
  assert.deepEqual(consumer.properties.autoOffsetReset?.enum, [
    "earliest",
    "latest",
    "EARLIEST",
    "LATEST",
  ]);
  assert.equal(consumer.properties.autoOffsetReset?.default, "earliest");
  assert.equal(consumer.properties.mode?.default, "balanced");
  assert.equal(schema.properties.shutdown.properties.gracePeriodMs.default, 30000);
});

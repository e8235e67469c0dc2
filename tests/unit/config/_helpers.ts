/**
 * Helpers shared by the config tests.
 *
 * @module
 */
import assert from "node:assert/strict";
import { copyFile, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ConfigError, type ConfigIssue } from "../../../src/config/error.ts";

/** Joins lines into a YAML text (a final newline included). */
export function yaml(...lines: string[]): string {
  return `${lines.join("\n")}\n`;
}

/** Runs `fn` and returns the issues of the ConfigError it must throw. */
export async function issuesOf(fn: () => unknown): Promise<ConfigIssue[]> {
  try {
    await fn();
  } catch (error) {
    if (error instanceof ConfigError) return error.issues;
    throw error;
  }
  throw new Error("expected a ConfigError, but the config was accepted");
}

/** What a test expects of one issue. */
export interface ExpectedIssue {
  path: string;
  line: number;
  column?: number;
  /** A substring of the message. */
  message: string;
}

/** Asserts that `issues` are exactly `expected`, in order. */
export function assertIssues(issues: ConfigIssue[], expected: ExpectedIssue[]): void {
  const shown = issues.map((i) => `${i.line}:${i.column} ${i.path}: ${i.message}`).join("\n");
  assert.equal(issues.length, expected.length, `wrong number of issues:\n${shown}`);
  expected.forEach((want, index) => {
    const got = issues[index] as ConfigIssue;
    assert.equal(got.path, want.path, `issue ${index} path:\n${shown}`);
    assert.equal(got.line, want.line, `issue ${index} line:\n${shown}`);
    if (want.column !== undefined) {
      assert.equal(got.column, want.column, `issue ${index} column:\n${shown}`);
    }
    assert(
      got.message.includes(want.message),
      `issue ${index} message ${JSON.stringify(got.message)} lacks ${JSON.stringify(want.message)}`,
    );
  });
}

const FIXTURES = new URL("./fixtures/", import.meta.url);

/** A temporary directory holding copies of the fixture handlers under `handlers/`. */
export async function makeWorkspace(): Promise<{ dir: string; remove: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), "consumerd-config-"));
  await mkdir(join(dir, "handlers", "a-directory.ts"), { recursive: true });
  for (
    const name of ["default_export.ts", "handle_batch.ts", "no_handler.ts", "throws_on_import.ts"]
  ) {
    await copyFile(new URL(`handlers/${name}`, FIXTURES), join(dir, "handlers", name));
  }
  await writeFile(join(dir, "handlers", "syntax_error.ts"), "export default function (\n");
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}

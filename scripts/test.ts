/**
 * `deno task test`: format, lint and type checks, the worker bundle (so that
 * the daemons the tests start run their workers from it, as `run`, `dev` and
 * the image do), then every test (unit, integration, end-to-end) against a
 * real local broker, which it starts if none runs and stops again
 * afterwards. Ends with `N passed, N failed`.
 *
 * Extra arguments are passed to `deno test` (e.g. a path or `--filter`).
 *
 * @module
 */
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { brokerDown, BrokerError, brokerOptions, ensureBroker } from "./broker.ts";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
const deno = Deno.execPath();
let passed = 0;
let failed = 0;

async function step(name: string, args: string[]): Promise<boolean> {
  console.error(`\n== ${name}: deno ${args.join(" ")}`);
  const status = await new Deno.Command(deno, {
    args,
    cwd: ROOT,
    stdout: "inherit",
    stderr: "inherit",
  })
    .spawn().status;
  status.success ? passed++ : failed++;
  if (!status.success) console.error(`== ${name} FAILED`);
  return status.success;
}

await step("format", ["fmt", "--check"]);
await step("lint", ["lint"]);
await step("type check", ["check", "src/", "scripts/", "tests/", "workers/", "bench/"]);
await step("worker bundle", ["run", "-A", "scripts/build.ts"]);

const broker = brokerOptions();
let started = false;
try {
  console.error("");
  started = await ensureBroker(broker);
} catch (error) {
  if (!(error instanceof BrokerError)) throw error;
  console.error(`error: ${error.message}`);
  console.log(`${passed} passed, ${failed + 1} failed`);
  Deno.exit(1);
}

const junit = join(ROOT, ".cache", "junit.xml");
await Deno.mkdir(join(ROOT, ".cache"), { recursive: true });
await Deno.remove(junit).catch(() => {});
try {
  const extra = Deno.args.length > 0 ? Deno.args : ["tests/", "bench/"];
  await step("tests", [
    "test",
    "-A",
    "--unstable-worker-options",
    `--junit-path=${junit}`,
    ...extra,
  ]);
  // The step counted itself once; count the tests inside instead.
  const counts = await junitCounts(junit);
  if (counts) {
    const stepOk = counts.failed === 0;
    stepOk ? passed-- : failed--;
    passed += counts.passed;
    failed += counts.failed;
  }
} finally {
  if (started) {
    await brokerDown(broker);
    console.error("== Kafka broker stopped");
  }
}

console.log(`${passed} passed, ${failed} failed`);
Deno.exit(failed === 0 ? 0 : 1);

/** Reads the totals of a `deno test --junit-path` report. */
async function junitCounts(path: string): Promise<{ passed: number; failed: number } | null> {
  let xml: string;
  try {
    xml = await Deno.readTextFile(path);
  } catch {
    return null;
  }
  const head = xml.match(/<testsuites\b[^>]*>/)?.[0];
  if (!head) return null;
  const attr = (name: string) => Number(head.match(new RegExp(`\\b${name}="(\\d+)"`))?.[1] ?? 0);
  const total = attr("tests");
  const bad = attr("failures") + attr("errors");
  return { passed: total - bad, failed: bad };
}

/**
 * `deno task soak [--short]`: the chaos soak against this checkout's broker
 * (started if none runs, stopped again afterwards). Prints the timeline, the
 * checker's tables and where the evidence is; exits 1 if a promise broke.
 *
 * @module
 */
import { brokerDown, BrokerError, brokerOptions, ensureBroker } from "../../scripts/broker.ts";
import { FULL, runSoak, SHORT } from "./run.ts";

const options = Deno.args.includes("--short") ? SHORT : FULL;
let started = false;
try {
  started = await ensureBroker(brokerOptions());
  const result = await runSoak(options);
  console.log(`\n${result.table}\n\n${result.partitionTable}\n`);
  console.log(
    `${result.passed ? "PASSED" : "FAILED"} in ${result.seconds} s; records, daemon logs and ` +
      `report: ${result.dir}`,
  );
  Deno.exitCode = result.passed ? 0 : 1;
} catch (error) {
  if (!(error instanceof BrokerError)) throw error;
  console.error(`error: ${error.message}`);
  Deno.exitCode = 1;
} finally {
  if (started) await brokerDown(brokerOptions());
}

/**
 * `deno task soak [--eos] [--short]`: the chaos soak against this
 * checkout's broker (started if none runs, stopped again afterwards). Prints
 * the timeline, the checker's tables and where the evidence is; exits 1 if a
 * promise broke. `--eos`: the exactly-once soak (a handler that produces,
 * its outputs checked read_committed); `--eos --at-least-once` runs it with
 * `delivery: at-least-once`, which must fail on duplicates (a check of the
 * checker).
 *
 * `deno task soak --recheck <dir>` checks a finished run again from its
 * directory (run.json, records/) and the broker, e.g. after changing the checker.
 *
 * @module
 */
import { join } from "node:path";
import { brokerDown, BrokerError, brokerOptions, ensureBroker } from "../../scripts/broker.ts";
import { KafkaAdmin } from "../../src/kafka/kafkajs/admin.ts";
import { TEST_KAFKA } from "../harness/kafka.ts";
import { formatPartitions, formatReport, passed } from "./checker.ts";
import { formatOutputReport, outputsPassed } from "./eos_checker.ts";
import {
  checkRun,
  EOS_FULL,
  EOS_SHORT,
  FULL,
  runSoak,
  type SavedRun,
  SHORT,
  type SoakOptions,
} from "./run.ts";

async function recheck(dir: string): Promise<boolean> {
  const run: SavedRun = JSON.parse(await Deno.readTextFile(join(dir, "run.json")));
  const admin = await KafkaAdmin.connect(TEST_KAFKA, "soak-recheck");
  try {
    const { report, outputs } = await checkRun(admin, dir, run);
    if (outputs !== null) console.log(`\n${formatOutputReport(outputs)}`);
    console.log(`\n${formatReport(report, {})}\n\n${formatPartitions(report)}\n`);
    for (const v of report.orderViolations.slice(0, 20)) console.log("order violation", v);
    for (const d of report.deadLetteredEarly) console.log("dead-lettered early", d);
    console.log("lost", report.lost.slice(0, 20), report.lostSeqs.slice(0, 20));
    return passed(report) && (outputs === null || outputsPassed(outputs));
  } finally {
    await admin.close();
  }
}

/** The run the flags ask for. */
function chosen(args: string[]): SoakOptions {
  const short = args.includes("--short");
  if (!args.includes("--eos")) return short ? SHORT : FULL;
  const options = short ? EOS_SHORT : EOS_FULL;
  return args.includes("--at-least-once") ? { ...options, delivery: "at-least-once" } : options;
}

const recheckAt = Deno.args.indexOf("--recheck");
let started = false;
try {
  started = await ensureBroker(brokerOptions());
  if (recheckAt >= 0) {
    Deno.exitCode = await recheck(Deno.args[recheckAt + 1] ?? ".") ? 0 : 1;
  } else {
    const result = await runSoak(chosen(Deno.args));
    if (result.outputTable !== null) console.log(`\n${result.outputTable}`);
    console.log(`\n${result.table}\n\n${result.partitionTable}\n`);
    console.log(
      `${result.passed ? "PASSED" : "FAILED"} in ${result.seconds} s; records, daemon logs and ` +
        `report: ${result.dir}`,
    );
    Deno.exitCode = result.passed ? 0 : 1;
  }
} catch (error) {
  if (!(error instanceof BrokerError)) throw error;
  console.error(`error: ${error.message}`);
  Deno.exitCode = 1;
} finally {
  if (started) await brokerDown(brokerOptions());
}

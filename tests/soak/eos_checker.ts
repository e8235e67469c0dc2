/**
 * The `--eos` soak's output checker: pure functions from what a downstream
 * consumer reads (`read_committed`) in the output topics and the
 * dead-letter topic, and how many more records `read_uncommitted` sees, to
 * the verdict and the table the soak prints.
 *
 * Definitions (docs/chaos-soak.md repeats them):
 *
 * - An **input** is an offset in `[log start, high watermark)` of a
 *   partition of the input topic at the end of the run.
 * - Each input must appear **exactly once** across the outputs and the
 *   dead-letter copies: an output names its input in the `soak-input`
 *   header (`<partition>:<offset>`), a dead-letter copy in its
 *   `consumerd.source.*` headers. None is **lost**; each copy past the
 *   first is a **duplicate** (an output beside a dead-letter copy too: the
 *   output of a call that threw).
 * - An input whose output carries a sequence number that is a multiple of
 *   `secondEvery` has **one second output** too; any other input none.
 * - **Not copied**: an output whose key is not `k<seq>` or whose `soak-id`
 *   header is not its sequence number (key and headers are copied from the
 *   input).
 * - **Aborted**: what `read_uncommitted` reads beyond `read_committed`, per
 *   topic — records of transactions that were aborted (proof that the
 *   faults hit transactions, not a promise).
 *
 * @module
 */
import { markdownTable, type PartitionEnd } from "./checker.ts";

/** The header naming the input an output was produced for (`<partition>:<offset>`). */
export const INPUT_HEADER = "soak-input";

/** An output record as read back: the input it names, and what it copied. */
export interface OutputRecord {
  /** The `soak-input` header, `<partition>:<offset>` (null if missing). */
  input: string | null;
  key: string | null;
  /** The `soak-id` header copied from the input. */
  id: string | null;
  /** The input's sequence number. */
  value: string;
}

/** Everything the output checker reads. */
export interface OutputObservation {
  /** The input topic's partitions at the end. */
  inputs: PartitionEnd[];
  /** The main output topic, read_committed. */
  outputs: OutputRecord[];
  /** The second output topic, read_committed. */
  seconds: OutputRecord[];
  /** The dead-letter copies' source partition and offset, read_committed. */
  deadLettered: Array<{ partition: number; offset: string }>;
  /** An input whose sequence number is a multiple of this has a second output. */
  secondEvery: number;
  /** How many records read_uncommitted reads in each topic. */
  uncommitted: { outputs: number; seconds: number; deadLettered: number };
}

/** An input seen other than once. */
export interface Miscount {
  input: string;
  copies: number;
}

/** The output checker's verdict. */
export interface OutputReport {
  inputs: number;
  outputs: number;
  seconds: number;
  deadLettered: number;
  /** Inputs seen exactly once across outputs and dead letters. */
  exactlyOnce: number;
  /** Inputs in neither. */
  lost: string[];
  /** Inputs seen more than once (each copy past the first counts in `duplicates`). */
  repeated: Miscount[];
  duplicates: number;
  secondExpected: number;
  /** Inputs that should have one second output and have none. */
  secondLost: string[];
  /** Inputs with more second outputs than they should have (each extra counts). */
  secondRepeated: Miscount[];
  secondDuplicates: number;
  /** Outputs whose key or `soak-id` header is not the input's. */
  notCopied: number;
  /** Records naming no input of the topic (missing header, or beyond its bounds). */
  strays: number;
  /** Records read_uncommitted reads beyond read_committed, per topic. */
  aborted: { outputs: number; seconds: number; deadLettered: number };
}

/** Counts `names` by value. */
function tally(names: Iterable<string>): Map<string, number> {
  const counts = new Map<string, number>();
  for (const name of names) counts.set(name, (counts.get(name) ?? 0) + 1);
  return counts;
}

/** Every input `<partition>:<offset>` of the input topic. */
function* inputsOf(partitions: PartitionEnd[]): Generator<string> {
  for (const end of [...partitions].sort((a, b) => a.partition - b.partition)) {
    for (let o = BigInt(end.low); o < BigInt(end.high); o++) yield `${end.partition}:${o}`;
  }
}

/** Checks the outputs of an `--eos` soak. */
export function checkOutputs(observation: OutputObservation): OutputReport {
  const { outputs, seconds, deadLettered, secondEvery, uncommitted } = observation;
  const inputs = new Set(inputsOf(observation.inputs));
  const named = (r: OutputRecord) => r.input !== null && inputs.has(r.input);
  const copies = tally([
    ...outputs.filter(named).map((r) => r.input!),
    ...deadLettered.map((d) => `${d.partition}:${d.offset}`).filter((k) => inputs.has(k)),
  ]);
  const secondCopies = tally(seconds.filter(named).map((r) => r.input!));
  // An input with an output whose sequence number is a multiple of secondEvery.
  const wantsSecond = new Set(
    outputs.filter((r) => named(r) && Number(r.value) % secondEvery === 0).map((r) => r.input!),
  );
  const report: OutputReport = {
    inputs: inputs.size,
    outputs: outputs.length,
    seconds: seconds.length,
    deadLettered: deadLettered.length,
    exactlyOnce: 0,
    lost: [],
    repeated: [],
    duplicates: 0,
    secondExpected: wantsSecond.size,
    secondLost: [],
    secondRepeated: [],
    secondDuplicates: 0,
    notCopied: outputs.filter((r) => r.key !== `k${r.value}` || r.id !== r.value).length,
    strays: outputs.filter((r) => !named(r)).length + seconds.filter((r) => !named(r)).length +
      deadLettered.filter((d) => !inputs.has(`${d.partition}:${d.offset}`)).length,
    aborted: {
      outputs: uncommitted.outputs - outputs.length,
      seconds: uncommitted.seconds - seconds.length,
      deadLettered: uncommitted.deadLettered - deadLettered.length,
    },
  };
  for (const input of inputs) {
    const n = copies.get(input) ?? 0;
    if (n === 0) report.lost.push(input);
    else if (n === 1) report.exactlyOnce++;
    else {
      report.repeated.push({ input, copies: n });
      report.duplicates += n - 1;
    }
    const want = wantsSecond.has(input) ? 1 : 0;
    const got = secondCopies.get(input) ?? 0;
    if (got < want) report.secondLost.push(input);
    if (got > want) {
      report.secondRepeated.push({ input, copies: got });
      report.secondDuplicates += got - want;
    }
  }
  return report;
}

/** True when every input is there exactly once, its second output too, and all was copied. */
export function outputsPassed(report: OutputReport): boolean {
  return report.lost.length === 0 && report.duplicates === 0 && report.secondLost.length === 0 &&
    report.secondDuplicates === 0 && report.notCopied === 0 && report.strays === 0;
}

const fmt = (n: number) => n.toLocaleString("en-US");

/** The `--eos` soak's output table (Markdown; what the README quotes). */
export function formatOutputReport(report: OutputReport): string {
  const { aborted } = report;
  const rows: Array<[string, string, string]> = [
    ["inputs", fmt(report.inputs), ""],
    ["outputs (read_committed)", fmt(report.outputs), ""],
    ["dead-lettered (read_committed)", fmt(report.deadLettered), ""],
    ["inputs exactly once in outputs ∪ dead letters", fmt(report.exactlyOnce), "all inputs"],
    ["lost", fmt(report.lost.length), "0"],
    ["duplicates", fmt(report.duplicates), "0"],
    [
      "second outputs (read_committed) / expected",
      `${fmt(report.seconds)} / ${fmt(report.secondExpected)}`,
      "equal",
    ],
    ["second outputs lost", fmt(report.secondLost.length), "0"],
    ["second outputs duplicated", fmt(report.secondDuplicates), "0"],
    ["key or headers not copied", fmt(report.notCopied), "0"],
    ["records naming no input", fmt(report.strays), "0"],
    [
      "aborted records seen by read_uncommitted",
      `${fmt(aborted.outputs + aborted.seconds + aborted.deadLettered)} (outputs ${
        fmt(aborted.outputs)
      }, second ${fmt(aborted.seconds)}, dead letters ${fmt(aborted.deadLettered)})`,
      "",
    ],
  ];
  return markdownTable(["measure", "value", "must be"], rows);
}

/**
 * The benchmark's command line.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { type Ordering, ORDERINGS } from "./client.ts";
import type { TopicSize } from "./seed.ts";

/** What one benchmark run does. */
export interface BenchOptions {
  brokers: string[];
  /** The topics to seed and consume; each has its own repetitions. */
  sizes: Array<TopicSize & { reps: number }>;
  /** Consumer counts for start-up and scale (0, the baseline, is always added); empty skips it. */
  scale: number[];
  /** Repetitions of each start-up measurement. */
  scaleReps: number;
  /** Whether the slow-handler section runs. */
  slowHandler: boolean;
  /** Slow-handler section: the concurrencies (consumerd `concurrency`, PC `maxConcurrency`). */
  concurrency: number[];
  /** Slow-handler section: the orderings. */
  orderings: Ordering[];
  /** Slow-handler section: the runtimes consumerd runs on. */
  slowRuntimes: Array<"deno" | "bun">;
  /** Slow-handler section: repetitions of each row. */
  slowReps: number;
  /** Slow-handler section: each row counts to what its reachable rate handles in this many s. */
  slowWindowS: number;
  /** Whether the consume→produce section runs. */
  produce: boolean;
  /** Consume→produce section: the input topics (each input produces one output of its size). */
  produceSizes: Array<TopicSize & { reps: number }>;
  /** Only clients whose label contains one of these (case-insensitive); empty: all. */
  only: string[];
  quick: boolean;
  /** Where the Markdown report goes; null: print only. */
  outDir: string | null;
}

/** The usage text. */
export const USAGE = `usage: deno task bench [options]

  --quick               smoke run: 100 B x 50,000 and 1 KiB x 20,000 records, one repetition
  --sizes LIST          topics as BYTESxCOUNT[@REPS], comma-separated
                        (default 100x1000000,1024x300000)
  --reps N              repetitions of each client on each topic (default 3; --quick 1)
  --scale LIST          consumer counts for start-up and memory (default 1,10,50; "none" skips)
  --scale-reps N        repetitions of each start-up measurement (default 1)
  --no-slow-handler     skip the slow-handler section (a 20 ms handler; consumerd beside the
                        Parallel Consumer); --slow-handler runs it (the default)
  --concurrency LIST    the slow-handler section's concurrencies, 1-256 (default 16,64,256; --quick 64)
  --slow-runtimes LIST  the runtimes consumerd's slow-handler rows run on: deno, bun (default both)
  --orderings LIST      the slow-handler section's orderings: partition, key, none (default all;
                        consumerd's key and none rows are skipped when its check rejects the field)
  --no-produce          skip the consume→produce section (one output per input, at-least-once and
                        exactly-once: consumerd beside a raw @platformatic/kafka loop and Kafka's
                        Java client)
  --produce-sizes LIST  its input topics as BYTESxCOUNT[@REPS] (default 100x200000,1024x60000;
                        --quick 100x20000,1024x10000)
  --only LIST           only clients whose label contains one of these, e.g. "B1 deno,R deno"
                        (start-up runs are labelled "R <runtime> <engine> scale", e.g. "R deno platformatic scale";
                        slow-handler rows "R <deno|bun> kafkajs slow <ordering> c<N>" and "PC java slow <ORDERING> c<N>";
                        consume→produce rows "R deno <engine> produce <alo|eos>", "B2 deno produce <alo|eos>",
                        "B0 java produce eos": --only produce runs that section alone)
  --brokers LIST        bootstrap brokers (default $KAFKA_BROKERS or 127.0.0.1:9092)
  --no-write            print the report without writing bench/results/`;

function positiveInt(value: string, flag: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) {
    throw new RangeError(
      `Cannot use --${flag} as it must be a positive integer: current value is "${value}"`,
    );
  }
  return n;
}

function parseOrdering(value: string): Ordering {
  const ordering = ORDERINGS.find((o) => o === value);
  if (ordering === undefined) {
    throw new RangeError(
      `Cannot use the ordering "${value}" in --orderings as it must be one of: ${
        ORDERINGS.join(", ")
      }`,
    );
  }
  return ordering;
}

/**
 * Parses one `--sizes` entry, `BYTESxCOUNT[@REPS]`.
 *
 * @example
 * ```ts
 * parseSize("100x1000000@2", 3); // { recordBytes: 100, count: 1000000, reps: 2 }
 * ```
 */
export function parseSize(spec: string, reps: number): TopicSize & { reps: number } {
  const match = spec.trim().match(/^(\d+)x(\d+)(?:@(\d+))?$/);
  if (!match) {
    throw new RangeError(
      `Cannot use the size "${spec}" as it must look like BYTESxCOUNT or BYTESxCOUNT@REPS, e.g. 100x1000000`,
    );
  }
  return {
    recordBytes: positiveInt(match[1]!, "sizes"),
    count: positiveInt(match[2]!, "sizes"),
    reps: match[3] === undefined ? reps : positiveInt(match[3], "sizes"),
  };
}

/**
 * Parses the benchmark's arguments; throws a RangeError or TypeError that
 * says what was wrong.
 *
 * @example
 * ```ts
 * parseBenchArgs(["--quick"], {}).sizes.length; // 2
 * ```
 */
export function parseBenchArgs(
  args: string[],
  env: { KAFKA_BROKERS?: string | undefined },
): BenchOptions {
  const { values } = parseArgs({
    args,
    strict: true,
    allowPositionals: false,
    options: {
      quick: { type: "boolean", default: false },
      sizes: { type: "string" },
      reps: { type: "string" },
      scale: { type: "string" },
      "scale-reps": { type: "string" },
      "slow-handler": { type: "boolean", default: false },
      "no-slow-handler": { type: "boolean", default: false },
      concurrency: { type: "string" },
      orderings: { type: "string" },
      "slow-runtimes": { type: "string" },
      "no-produce": { type: "boolean", default: false },
      "produce-sizes": { type: "string" },
      only: { type: "string" },
      brokers: { type: "string" },
      "no-write": { type: "boolean", default: false },
      help: { type: "boolean", default: false },
    },
  });
  if (values.help) throw new TypeError(USAGE);
  if (values["slow-handler"] && values["no-slow-handler"]) {
    throw new TypeError("Cannot use both --slow-handler and --no-slow-handler");
  }
  const quick = values.quick === true;
  const reps = values.reps === undefined ? (quick ? 1 : 3) : positiveInt(values.reps, "reps");
  const sizes = (values.sizes ?? (quick ? "100x50000,1024x20000" : "100x1000000,1024x300000"))
    .split(",")
    .map((spec) => parseSize(spec, reps));
  const scale = values.scale === "none" ? [] : (values.scale ?? "1,10,50")
    .split(",")
    .map((n) => positiveInt(n.trim(), "scale"));
  const list = (value: string | undefined) =>
    (value ?? "").split(",").map((s) => s.trim()).filter((s) => s !== "");
  return {
    brokers: list(values.brokers ?? env.KAFKA_BROKERS ?? "127.0.0.1:9092"),
    sizes,
    scale,
    scaleReps: values["scale-reps"] === undefined
      ? 1
      : positiveInt(values["scale-reps"], "scale-reps"),
    slowHandler: !values["no-slow-handler"],
    concurrency: list(values.concurrency ?? (quick ? "64" : "16,64,256")).map((n) => {
      const value = positiveInt(n, "concurrency");
      if (value > 256) {
        throw new RangeError(
          `Cannot use --concurrency as each must be at most 256: current value is "${n}"`,
        );
      }
      return value;
    }),
    orderings: list(values.orderings ?? ORDERINGS.join(",")).map(parseOrdering),
    slowRuntimes: list(values["slow-runtimes"] ?? "deno,bun").map((runtime) => {
      if (runtime !== "deno" && runtime !== "bun") {
        throw new RangeError(
          `Cannot use the runtime "${runtime}" in --slow-runtimes as it must be deno or bun`,
        );
      }
      return runtime;
    }),
    slowReps: reps,
    produce: !values["no-produce"],
    produceSizes:
      (values["produce-sizes"] ?? (quick ? "100x20000,1024x10000" : "100x200000,1024x60000"))
        .split(",")
        .map((spec) => parseSize(spec, reps)),
    slowWindowS: quick ? 2 : 8,
    only: list(values.only).map((s) => s.toLowerCase()),
    quick,
    outDir: values["no-write"] ? null : "bench/results",
  };
}

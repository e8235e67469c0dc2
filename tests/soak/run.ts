/**
 * The chaos soak: a topic fed steadily while two daemons (two replicas each,
 * one consumer, one group) consume it and faults are injected — handler
 * errors at random, a worker killed every few seconds, one daemon SIGKILLed
 * and restarted, the other SIGTERMed and restarted, the broker stopped and
 * started again. Then {@linkcode check} compares what the handler recorded
 * and the dead-letter topic with the broker's own offsets.
 *
 * `deno task soak` runs {@linkcode FULL}; `tests/e2e/chaos_soak_test.ts`
 * runs {@linkcode SHORT}. `deno task soak --eos` runs {@linkcode EOS_FULL}:
 * the same faults on a `delivery: exactly-once` consumer whose handler
 * produces, checked by reading its outputs and dead letters
 * `read_committed` ({@linkcode checkOutputs}); `tests/e2e/eos_soak_test.ts`
 * runs {@linkcode EOS_SHORT}. The broker outage needs this checkout's own broker
 * (`deno task kafka up`, honouring KAFKA_PORT): it is stopped and started
 * again with its data.
 *
 * @module
 */
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { brokerDown, brokerOptions, brokerUp, runningBrokerPid } from "../../scripts/broker.ts";
import { KafkaAdmin } from "../../src/kafka/kafkajs/admin.ts";
import {
  type DaemonProcess,
  type DaemonRuntime,
  startDaemon,
  writeConfig,
  writeConsumersConfig,
} from "../harness/daemon.ts";
import { BROKERS, TEST_KAFKA, uniqueName } from "../harness/kafka.ts";
import { type ReadBack, readBack } from "../harness/read_topic.ts";
import {
  check,
  type DeadLetterCopy,
  deadLetterCopy,
  type Fault,
  formatPartitions,
  formatReport,
  type HandlerRecord,
  parseRecords,
  type PartitionEnd,
  passed,
  type SoakReport,
} from "./checker.ts";
import {
  checkOutputs,
  formatOutputReport,
  INPUT_HEADER,
  type OutputRecord,
  type OutputReport,
  outputsPassed,
} from "./eos_checker.ts";

const HANDLER = fileURLToPath(new URL("./handler.ts", import.meta.url));

/** What one soak run does, and when (times from the start of producing). */
export interface SoakOptions {
  messages: number;
  partitions: number;
  /** Producing is spread over this long (longer when the broker is down). */
  produceMs: number;
  /** Records per produce call. */
  batch: number;
  /** A worker is told to kill itself this often. */
  killEveryMs: number;
  sigtermAtMs: number;
  sigkillAtMs: number;
  /** How long the SIGKILLed daemon stays down. */
  sigkillDownMs: number;
  /** When the broker is stopped (null: never). */
  brokerOutageAtMs: number | null;
  brokerOutageMs: number;
  /** Probability that a handler call throws. */
  failRate: number;
  /** How long each handler call waits (honouring ctx.signal), ms. */
  handlerMs: number;
  /** When one handler call is told to run `longCallMs` (null: never). */
  longCallAtMs: number | null;
  longCallMs: number;
  retry: { attempts: number; backoffMs: number; maxBackoffMs: number };
  /** How long the consumers may take to commit everything after producing ended. */
  drainTimeoutMs: number;
  /**
   * null: the handler produces nothing. Else the consumer lists two output
   * topics with this `delivery` (engine platformatic, each daemon its own
   * `kafka.instanceId`), its handler produces to them, and the outputs are
   * checked too.
   */
  delivery: "exactly-once" | "at-least-once" | null;
  /** With `delivery`: an input whose sequence number is a multiple of this has a second output. */
  secondEvery: number;
  /** With `delivery`: an input whose sequence number is this minus 1 modulo this always throws. */
  poisonEvery: number;
  /** What each daemon runs on: A is SIGKILLed, B SIGTERMed. */
  runtimes: { A: DaemonRuntime; B: DaemonRuntime };
}

/** `deno task soak`: 100,000 messages over about four minutes of faults. */
export const FULL: SoakOptions = {
  messages: 100_000,
  partitions: 6,
  produceMs: 200_000,
  batch: 50,
  killEveryMs: 5_000,
  sigtermAtMs: 20_000,
  sigkillAtMs: 60_000,
  sigkillDownMs: 5_000,
  brokerOutageAtMs: 150_000,
  brokerOutageMs: 15_000,
  failRate: 0.05,
  handlerMs: 1,
  longCallAtMs: 100_000,
  longCallMs: 40_000,
  retry: { attempts: 3, backoffMs: 50, maxBackoffMs: 500 },
  // The group works off a backlog after the faults: 170-220 s on a shared 2-core machine.
  drainTimeoutMs: 600_000,
  delivery: null,
  secondEvery: 10,
  poisonEvery: 0,
  runtimes: { A: "deno", B: "deno" },
};

/** The default suite's version: one of each fault, a shorter outage. */
export const SHORT: SoakOptions = {
  ...FULL,
  messages: 10_000,
  produceMs: 50_000,
  batch: 25,
  sigtermAtMs: 5_000,
  sigkillAtMs: 10_000,
  sigkillDownMs: 2_000,
  // After the group got over the SIGKILL (the dead members' 30 s session
  // timeout): a broker restart before that restores them and restarts the wait.
  brokerOutageAtMs: 45_000,
  brokerOutageMs: 8_000,
  longCallAtMs: null,
  drainTimeoutMs: 90_000,
};

/**
 * `deno task soak --eos`: {@linkcode FULL}'s inputs and faults on an
 * exactly-once consumer; one input in 10 has a second output, one in 1,000
 * fails on every attempt (dead-lettered). Daemon B (the one SIGTERMed) runs
 * on Bun: the two runtimes share the group and the transactional outputs.
 */
export const EOS_FULL: SoakOptions = {
  ...FULL,
  delivery: "exactly-once",
  poisonEvery: 1000,
  runtimes: { A: "deno", B: "bun" },
};

/**
 * The default suite's `--eos` (`deno task soak --eos --short`): within a
 * minute — 2,000 inputs over 12 s, a worker kill every 3 s, a SIGTERM and a
 * SIGKILL, no broker outage nor long call.
 */
export const EOS_SHORT: SoakOptions = {
  ...EOS_FULL,
  messages: 2_000,
  produceMs: 12_000,
  batch: 20,
  killEveryMs: 3_000,
  sigtermAtMs: 2_000,
  sigkillAtMs: 6_000,
  sigkillDownMs: 1_000,
  brokerOutageAtMs: null,
  longCallAtMs: null,
  poisonEvery: 500,
  // About 10 s is usual; the margin is for a loaded machine.
  drainTimeoutMs: 45_000,
};

/** What a run produced: the verdict, the tables, where its evidence is. */
export interface SoakResult {
  report: SoakReport;
  /** The SIGTERMed daemon's exit code (0: it drained within its grace period), null if not signalled. */
  sigtermExitCode: number | null;
  faults: Record<string, number>;
  /** The summary table (Markdown). */
  table: string;
  /** Per-partition detail (Markdown). */
  partitionTable: string;
  /** With `delivery`: the outputs' verdict and table. */
  outputs: OutputReport | null;
  outputTable: string | null;
  passed: boolean;
  /** Records, daemon logs and the timeline of the run. */
  dir: string;
  seconds: number;
}

/** A daemon of the soak, across its incarnations (A1, A2, …). */
interface SoakDaemon {
  name: "A" | "B";
  incarnation: number;
  process: DaemonProcess;
  /** Every incarnation's process, for the logs. */
  history: Array<{ id: string; process: DaemonProcess }>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Runs one soak and checks it. `log` receives the timeline as it happens. */
export async function runSoak(
  options: SoakOptions,
  log: (line: string) => void = (l) => console.error(l),
): Promise<SoakResult> {
  const broker = brokerOptions();
  if (await runningBrokerPid(broker) === null) {
    throw new Error(
      `The soak stops and restarts the broker, so it needs this checkout's own broker on port ${broker.port} ` +
        "(deno task kafka up, with KAFKA_PORT and KAFKA_BROKERS set alike); none is running.",
    );
  }
  const began = Date.now();
  const dir = await Deno.makeTempDir({ prefix: "consumerd-soak-" });
  const recordsDir = join(dir, "records");
  const controlDir = join(dir, "control");
  await Deno.mkdir(recordsDir);
  await Deno.mkdir(controlDir);
  const timeline: string[] = [];
  let t0 = Date.now();
  const note = (line: string) => {
    const entry = `t=${((Date.now() - t0) / 1000).toFixed(1)}s ${line}`;
    timeline.push(entry);
    log(entry);
  };

  let admin = await KafkaAdmin.connect(TEST_KAFKA, "soak-admin");
  const topic = uniqueName("soak");
  const dlq = `${topic}.dlq`;
  const group = uniqueName("soak-g");
  await admin.ensureTopic(topic, { partitions: options.partitions });
  await admin.ensureTopic(dlq, { partitions: 1 });
  const outputs = options.delivery === null ? null : {
    delivery: options.delivery,
    output: `${topic}.out`,
    second: `${topic}.second`,
    secondEvery: options.secondEvery,
  };
  if (outputs !== null) {
    await admin.ensureTopic(outputs.output, { partitions: options.partitions });
    await admin.ensureTopic(outputs.second, { partitions: 2 });
  }
  const consumer = {
    name: "soak",
    group,
    topic,
    handler: HANDLER,
    replicas: 2,
    retry: options.retry,
    deadLetterTopic: dlq,
    permissions: {
      env: [
        "SOAK_DIR",
        "SOAK_CONTROL",
        "SOAK_DAEMON",
        "SOAK_FAIL_RATE",
        "SOAK_HANDLER_MS",
      ],
      read: [recordsDir, controlDir],
      write: [recordsDir, controlDir],
    },
    ...(outputs === null ? {} : {
      engine: "platformatic",
      outputs: [outputs.output, outputs.second],
      delivery: outputs.delivery,
      settings: {
        output: outputs.output,
        second: outputs.second,
        secondEvery: outputs.secondEvery,
        poisonEvery: options.poisonEvery,
      },
    }),
  };
  // With outputs, each daemon has its own kafka.instanceId (the daemon part of its transactional
  // ids; both run on this host), kept across its restarts so that each fences its predecessor.
  const config = outputs === null ? await writeConsumersConfig([consumer]) : await writeConfig({
    kafka: { brokers: BROKERS, instanceId: "${SOAK_INSTANCE}" },
    http: { listen: false },
    consumers: [consumer],
  });
  const launch = (name: "A" | "B", incarnation: number): DaemonProcess =>
    startDaemon(config, {
      runtime: options.runtimes[name],
      env: {
        SOAK_INSTANCE: `soak-${name}`,
        SOAK_DIR: recordsDir,
        SOAK_CONTROL: controlDir,
        SOAK_DAEMON: `${name}${incarnation}`,
        SOAK_FAIL_RATE: String(options.failRate),
        SOAK_HANDLER_MS: String(options.handlerMs),
      },
    });
  const daemons: SoakDaemon[] = (["A", "B"] as const).map((name) => {
    const process = launch(name, 1);
    return { name, incarnation: 1, process, history: [{ id: `${name}1`, process }] };
  });
  const restart = (d: SoakDaemon) => {
    d.incarnation++;
    d.process = launch(d.name, d.incarnation);
    d.history.push({ id: `${d.name}${d.incarnation}`, process: d.process });
    note(`daemon ${d.name}${d.incarnation} started`);
  };
  const faults: Fault[] = [];
  const counts: Record<string, number> = {};
  let sigtermExitCode: number | null = null;
  const count = (what: string) => (counts[what] = (counts[what] ?? 0) + 1);
  let brokerDownNow = false;

  try {
    log(`soak: topic ${topic} (${options.partitions} partitions), group ${group}, files in ${dir}`);
    await Promise.all(
      daemons.map((d) => d.process.waitForLog("consumer started", { timeoutMs: 90_000 })),
    );
    t0 = Date.now();
    note(
      `daemons A1 (${options.runtimes.A}) and B1 (${options.runtimes.B}) started; producing ${options.messages} messages`,
    );

    // Producing: steady batches, each retried until the broker acknowledges it.
    let produced = 0;
    const producing = (async () => {
      const interval = options.produceMs / Math.ceil(options.messages / options.batch);
      let failures = 0;
      while (produced < options.messages) {
        const n = Math.min(options.batch, options.messages - produced);
        const records = Array.from({ length: n }, (_, i) => ({
          value: String(produced + i),
          partition: (produced + i) % options.partitions,
          // With outputs: a key and a header for the handler to copy.
          ...(outputs === null
            ? {}
            : { key: `k${produced + i}`, headers: { "soak-id": String(produced + i) } }),
        }));
        try {
          await admin.produce(topic, records);
          produced += n;
          failures = 0;
          await sleep(interval);
        } catch (error) {
          if (failures++ === 0) note(`produce failed (retrying): ${(error as Error).message}`);
          if (failures % 5 === 0) {
            await admin.close().catch(() => {});
            admin = await KafkaAdmin.connect(TEST_KAFKA, "soak-admin").catch(() => admin);
          }
          await sleep(1000);
        }
      }
      note(`produced ${produced}`);
    })();

    // Worker kills: a `kill` order in the control directory, claimed by the next handler call.
    let killing = true;
    let orders = 0;
    const orderKill = async () => {
      const pending = await Deno.stat(join(controlDir, "kill")).then(() => true, () => false);
      if (pending) return;
      const mode = orders++ % 2 === 0 ? "throw" : "close";
      const tmp = join(controlDir, `order-${orders}`);
      await Deno.writeTextFile(tmp, mode);
      await Deno.rename(tmp, join(controlDir, "kill"));
    };
    const killer = (async () => {
      while (killing) {
        await sleep(options.killEveryMs);
        if (killing) await orderKill();
      }
    })();

    const at = async (ms: number) => {
      const wait = t0 + ms - Date.now();
      if (wait > 0) await sleep(wait);
    };
    const [a, b] = daemons as [SoakDaemon, SoakDaemon];
    const schedule: Array<{ atMs: number; run: () => Promise<void> }> = [
      {
        atMs: options.sigtermAtMs,
        run: async () => {
          const id = `${b.name}${b.incarnation}`;
          // A deploy lands in the middle of a handler call: one of the
          // daemon's workers is held in a 20 s call that honours ctx.signal.
          const hold = join(controlDir, `hold-${id}`);
          await Deno.writeTextFile(`${hold}.order`, "20000");
          await Deno.rename(`${hold}.order`, hold);
          const holdUntil = Date.now() + 10_000;
          while (Date.now() < holdUntil && await Deno.stat(hold).then(() => true, () => false)) {
            await sleep(50);
          }
          await Deno.remove(hold).then(
            () => note(`no worker of ${id} took the 20 s call within 10 s`),
            () => note(`a worker of ${id} is in a 20 s handler call`),
          );
          await sleep(500);
          const start = Date.now();
          note(`SIGTERM daemon ${id}`);
          const code = await b.process.stop();
          sigtermExitCode = code;
          note(`daemon ${id} exited with ${code}`);
          count("daemon SIGTERM");
          restart(b);
          faults.push({ kind: "daemon-sigterm", start, end: Date.now(), daemon: id });
        },
      },
      {
        atMs: options.sigkillAtMs,
        run: async () => {
          const id = `${a.name}${a.incarnation}`;
          const start = Date.now();
          note(`SIGKILL daemon ${id}`);
          a.process.kill("SIGKILL");
          await a.process.exited();
          count("daemon SIGKILL");
          await sleep(options.sigkillDownMs);
          restart(a);
          faults.push({ kind: "daemon-sigkill", start, end: Date.now(), daemon: id });
        },
      },
    ];
    if (options.brokerOutageAtMs !== null) {
      schedule.push({
        atMs: options.brokerOutageAtMs,
        run: async () => {
          // A worker killed just before: its replacement starts while the broker is down.
          await orderKill();
          await sleep(1000);
          const start = Date.now();
          note("stopping the broker");
          brokerDownNow = true;
          await brokerDown(broker);
          note(`broker stopped; down for ${options.brokerOutageMs / 1000} s`);
          await sleep(options.brokerOutageMs);
          const up = await brokerUp(broker);
          brokerDownNow = false;
          note(`broker started again (pid ${up.pid}, ${up.startupMs} ms)`);
          count("broker outage");
          faults.push({ kind: "broker-outage", start, end: Date.now() });
        },
      });
    }
    if (options.longCallAtMs !== null) {
      schedule.push({
        atMs: options.longCallAtMs,
        run: async () => {
          note(`ordering one handler call of ${options.longCallMs / 1000} s`);
          await Deno.writeTextFile(join(controlDir, "slow-order"), String(options.longCallMs));
          await Deno.rename(join(controlDir, "slow-order"), join(controlDir, "slow"));
        },
      });
    }
    schedule.sort((x, y) => x.atMs - y.atMs);
    for (const step of schedule) {
      await at(step.atMs);
      await step.run();
    }
    await producing;
    killing = false;
    await killer;
    await Deno.remove(join(controlDir, "kill")).catch(() => {});
    await Deno.remove(join(controlDir, "slow")).catch(() => {});
    counts["worker kills"] = 0; // filled from the records below

    // Drain: wait until the group committed every partition's high watermark.
    note("waiting for the group to commit everything");
    const drainDeadline = Date.now() + options.drainTimeoutMs;
    let ends: PartitionEnd[] = [];
    while (Date.now() < drainDeadline) {
      ends = await partitionEnds(admin, group, topic).catch(() => ends);
      if (ends.length > 0 && ends.every((e) => e.committed === e.high)) break;
      await sleep(2000);
    }
    note(
      ends.every((e) => e.committed === e.high)
        ? "committed = high watermark on every partition"
        : `drain timed out: ${
          ends.map((e) => `p${e.partition} ${e.committed ?? "-"}/${e.high}`).join(" ")
        }`,
    );
    for (const d of daemons) {
      const code = await d.process.stop();
      note(`daemon ${d.name}${d.incarnation} stopped with exit code ${code}`);
    }
    const run: SavedRun = {
      topic,
      dlq,
      group,
      produced,
      faults,
      attempts: options.retry.attempts,
      outputs,
    };
    await Deno.writeTextFile(join(dir, "run.json"), JSON.stringify(run, null, 2));
    const { report, outputs: outputReport } = await checkRun(admin, dir, run);
    counts["worker kills"] = report.kills;
    counts["worker kill orders"] = orders;
    if (options.longCallAtMs !== null) counts["long calls"] = report.longCalls;
    const result: SoakResult = {
      report,
      faults: counts,
      table: formatReport(report, counts),
      partitionTable: formatPartitions(report),
      outputs: outputReport,
      outputTable: outputReport === null ? null : formatOutputReport(outputReport),
      sigtermExitCode,
      passed: passed(report) && (outputReport === null || outputsPassed(outputReport)) &&
        sigtermExitCode === 0,
      dir,
      seconds: Math.round((Date.now() - began) / 1000),
    };
    await writeReport(dir, timeline, daemons, result);
    if (result.passed) {
      const written = outputs === null ? [] : [outputs.output, outputs.second];
      await admin.deleteTopics([topic, dlq, ...written]).catch(() => {});
    }
    return result;
  } finally {
    for (const d of daemons) {
      d.process.kill("SIGKILL");
      await d.process.exited().catch(() => 0);
      for (const { id, process } of d.history) {
        await Deno.writeTextFile(join(dir, `daemon-${id}.log`), process.stderr.join("\n") + "\n");
      }
    }
    await Deno.writeTextFile(join(dir, "timeline.txt"), timeline.join("\n") + "\n");
    if (brokerDownNow || await runningBrokerPid(broker) === null) await brokerUp(broker);
    await admin.close().catch(() => {});
  }
}

/** What the checker needs besides the files, saved as run.json next to them. */
export interface SavedRun {
  topic: string;
  dlq: string;
  group: string;
  produced: number;
  faults: Fault[];
  attempts: number;
  /** The output topics, when the handler produced (absent in runs saved before they existed). */
  outputs?: SoakOutputs | null;
}

/** What an `--eos` run's handler produced to. */
export interface SoakOutputs {
  delivery: "exactly-once" | "at-least-once";
  output: string;
  second: string;
  secondEvery: number;
}

/** What the broker held at the end of a run, saved as broker.json (the topics are deleted after a pass). */
interface BrokerEnd {
  partitions: PartitionEnd[];
  /** With outputs: read_committed, as the consumers downstream read them. */
  deadLettered: DeadLetterCopy[];
  outputs?: {
    outputs: OutputRecord[];
    seconds: OutputRecord[];
    /** How many records read_uncommitted reads in each topic. */
    uncommitted: { outputs: number; seconds: number; deadLettered: number };
  };
}

/**
 * Checks a run from its directory (records/) and what the broker held at
 * its end: read from the broker and saved as broker.json the first time,
 * read from broker.json after that.
 */
export async function checkRun(
  admin: KafkaAdmin,
  dir: string,
  run: SavedRun,
): Promise<{ report: SoakReport; outputs: OutputReport | null }> {
  const saved = join(dir, "broker.json");
  let end: BrokerEnd;
  try {
    end = JSON.parse(await Deno.readTextFile(saved));
  } catch {
    const partitions = await partitionEnds(admin, run.group, run.topic);
    end = run.outputs
      ? { partitions, ...await readOutputs(run.outputs, run.dlq) }
      : { partitions, deadLettered: await readDeadLetters(admin, run.dlq) };
    await Deno.writeTextFile(saved, JSON.stringify(end));
  }
  const report = check({
    records: await readRecords(join(dir, "records")),
    produced: run.produced,
    partitions: end.partitions,
    deadLettered: end.deadLettered,
    faults: run.faults,
    attempts: run.attempts,
  });
  const outputs = run.outputs && end.outputs
    ? checkOutputs({
      inputs: end.partitions,
      outputs: end.outputs.outputs,
      seconds: end.outputs.seconds,
      deadLettered: end.deadLettered,
      secondEvery: run.outputs.secondEvery,
      uncommitted: end.outputs.uncommitted,
    })
    : null;
  return { report, outputs };
}

/** An output as the checker needs it. */
function outputRecord(r: ReadBack): OutputRecord {
  return {
    input: r.headers[INPUT_HEADER] ?? null,
    key: r.key,
    id: r.headers["soak-id"] ?? null,
    value: r.value,
  };
}

/**
 * The output topics and the dead-letter topic as a downstream consumer
 * reads them (read_committed), and how many records each holds for
 * read_uncommitted (the difference: aborted transactions' records). The
 * six reads run at once.
 */
async function readOutputs(
  outputs: SoakOutputs,
  dlq: string,
): Promise<Pick<BrokerEnd, "deadLettered" | "outputs">> {
  const [main, mainAll, second, secondAll, dead, deadAll] = await Promise.all(
    [outputs.output, outputs.second, dlq].flatMap((topic) =>
      (["read_committed", "read_uncommitted"] as const).map((isolation) =>
        // Idle 6 s: the topics are complete (the daemons stopped), the wait only ends each read.
        readBack(topic, isolation, { idleMs: 6000 })
      )
    ),
  );
  return {
    deadLettered: dead!.flatMap(deadLetterCopy),
    outputs: {
      outputs: main!.map(outputRecord),
      seconds: second!.map(outputRecord),
      uncommitted: {
        outputs: mainAll!.length,
        seconds: secondAll!.length,
        deadLettered: deadAll!.length,
      },
    },
  };
}

/** Each partition's bounds and the group's committed offset. */
async function partitionEnds(
  admin: KafkaAdmin,
  group: string,
  topic: string,
): Promise<PartitionEnd[]> {
  const [marks, committed] = await Promise.all([
    admin.watermarks(topic),
    admin.committed(group, topic),
  ]);
  const byPartition = new Map(committed.map((c) => [c.partition, c.offset]));
  return marks.map((m) => ({
    partition: m.partition,
    low: m.low,
    high: m.high,
    committed: byPartition.get(m.partition) ?? null,
  }));
}

/** Every record file of the run. */
async function readRecords(dir: string): Promise<HandlerRecord[]> {
  const records: HandlerRecord[] = [];
  for await (const entry of Deno.readDir(dir)) {
    if (entry.isFile) records.push(...parseRecords(await Deno.readTextFile(join(dir, entry.name))));
  }
  return records;
}

/**
 * The dead-letter topic's copies (a topic written without transactions),
 * read with Kafka's own console consumer.
 */
export async function readDeadLetters(admin: KafkaAdmin, dlq: string): Promise<DeadLetterCopy[]> {
  const total = (await admin.watermarks(dlq))
    .reduce((n, w) => n + Number(BigInt(w.high) - BigInt(w.low)), 0);
  if (total === 0) return [];
  const records = await readBack(dlq, "read_uncommitted", { maxMessages: total, idleMs: 30_000 });
  return records.flatMap(deadLetterCopy);
}

/** Notable daemon log lines (warnings and errors), counted by message. */
function notableLogs(process: DaemonProcess): Map<string, number> {
  const counts = new Map<string, number>();
  for (const r of process.records) {
    if (r.level !== "warn" && r.level !== "error") continue;
    const msg = String(r.msg).slice(0, 120);
    counts.set(msg, (counts.get(msg) ?? 0) + 1);
  }
  return counts;
}

/** Writes the tables, the timeline and the daemons' warnings next to the records. */
async function writeReport(
  dir: string,
  timeline: string[],
  daemons: SoakDaemon[],
  result: SoakResult,
): Promise<void> {
  const summary: string[] = [];
  for (const d of daemons) {
    for (const { id, process } of d.history) {
      const notable = [...notableLogs(process)].map(([msg, n]) => `  ${n} × ${msg}`);
      summary.push(`daemon ${id}: ${process.records.length} log lines`, ...notable);
    }
  }
  const { report } = result;
  const violations = report.orderViolations.slice(0, 50).map((v) =>
    `  p${v.partition} offset ${v.offset} first delivered after ${v.after} by ${v.worker} at ${
      new Date(v.t).toISOString()
    }`
  );
  const lost = report.lost.slice(0, 50).map((l) => `  p${l.partition} offset ${l.offset}`);
  await Deno.writeTextFile(
    join(dir, "report.md"),
    [
      ...(result.outputTable === null ? [] : [result.outputTable, ""]),
      result.table,
      "",
      result.partitionTable,
      "",
      "timeline:",
      ...timeline,
      "",
      "warnings and errors logged:",
      ...summary,
      ...(violations.length ? ["", "order violations (first 50):", ...violations] : []),
      ...(lost.length ? ["", "lost (first 50):", ...lost] : []),
      ...(report.deadLetteredEarly.length
        ? [
          "",
          "dead-lettered before the attempts were spent:",
          ...report.deadLetteredEarly.map((d) => `  p${d.partition} offset ${d.offset}`),
        ]
        : []),
      ...outputDetail(result.outputs),
      ...(report.lostSeqs.length
        ? ["", `lost sequence numbers (first 50): ${report.lostSeqs.slice(0, 50).join(", ")}`]
        : []),
      ...(report.uncommitted.length
        ? [
          "",
          "committed ≠ high watermark:",
          ...report.uncommitted.map((p) => `  p${p.partition} ${p.committed ?? "-"} / ${p.high}`),
        ]
        : []),
    ].join("\n") + "\n",
  );
}

/** The inputs an `--eos` run lost or repeated (first 50 of each), for report.md. */
function outputDetail(outputs: OutputReport | null): string[] {
  if (outputs === null) return [];
  const list = (title: string, items: string[]) =>
    items.length === 0 ? [] : ["", `${title} (first 50): ${items.slice(0, 50).join(", ")}`];
  const copies = (m: { input: string; copies: number }) => `${m.input} ×${m.copies}`;
  return [
    ...list("inputs in no output nor dead letter", outputs.lost),
    ...list("inputs more than once in outputs ∪ dead letters", outputs.repeated.map(copies)),
    ...list("second outputs missing", outputs.secondLost),
    ...list("second outputs repeated", outputs.secondRepeated.map(copies)),
  ];
}

/**
 * B0: Kafka's own Java consumer, through its ConsumerPerformance tool, with
 * the JavaScript clients' fetch settings. Its rate is the tool's
 * `fetch.nMsg.sec` (group join excluded); its CPU time is the JVM's whole
 * life (start-up and JIT included), as the tool marks no first message.
 *
 * The JVM runs with full tiered compilation (unlike the quick-start flags
 * `deno task kafka tool` uses), so that it is a ceiling.
 *
 * @module
 */
import { join } from "node:path";
import { ensureJars, KAFKA_TOOLS } from "../scripts/broker.ts";
import { MeasuredProcess } from "./child.ts";
import { type Client, doneTimeoutMs, FIRST_MESSAGE_TIMEOUT_MS } from "./client.ts";
import { memory, treeCpuMs } from "./proc.ts";
import { ROOT } from "./runtimes.ts";

/** The consumer properties every B0 run uses: the JavaScript clients' fetch settings. */
export const JAVA_CONSUMER_PROPERTIES = [
  "auto.offset.reset=earliest",
  "fetch.min.bytes=1",
  "fetch.max.wait.ms=500",
  "fetch.max.bytes=10485760",
  "max.partition.fetch.bytes=1048576",
].join("\n");

/**
 * Parses ConsumerPerformance's output: a header line of comma-separated
 * names and a line of values. Returns the values by name.
 *
 * @example
 * ```ts
 * parsePerfOutput("a, b\n1, 2.5\n"); // { a: 1, b: 2.5 }
 * ```
 */
export function parsePerfOutput(stdout: string): Record<string, number> {
  const lines = stdout.split("\n").map((l) => l.trim()).filter((l) => l !== "");
  const header = lines.findIndex((l) => l.startsWith("start.time"));
  const values = lines[header + 1];
  if (header < 0 || values === undefined) {
    throw new Error(`Cannot find ConsumerPerformance's results in its output:\n${stdout}`);
  }
  const names = lines[header]!.split(",").map((s) => s.trim());
  const cells = values.split(",").map((s) => s.trim());
  return Object.fromEntries(names.map((name, i) => [name, Number(cells[i])]));
}

/** Kafka's ConsumerPerformance tool. */
export function javaClient({ brokers }: { brokers: string[] }): Client {
  return {
    label: "B0 java ConsumerPerformance",
    family: "B0",
    runtime: "java",
    mode: "poll",
    async run(topic, group) {
      const dir = await Deno.makeTempDir({ prefix: "consumerd-bench-" });
      const properties = join(dir, "consumer.properties");
      await Deno.writeTextFile(properties, `${JAVA_CONSUMER_PROPERTIES}\n`);
      const java = new MeasuredProcess("java", [
        "-Xmx512m",
        "-XX:+UseG1GC",
        "-Djava.awt.headless=true",
        `-Dlog4j2.configurationFile=${join(ROOT, "config/kafka/tools-log4j2.properties")}`,
        "-cp",
        await ensureJars(),
        KAFKA_TOOLS["consumer-perf"]!,
        "--bootstrap-server",
        brokers.join(","),
        "--topic",
        topic.topic,
        "--group",
        group,
        "--messages",
        String(topic.count),
        "--consumer.config",
        properties,
        "--timeout",
        "30000",
      ], { cwd: ROOT });
      // The JVM exits right after printing its results: sample it on the way,
      // and once more as soon as the results line is out.
      let last = { cpuMs: 0, peakKiB: 0 };
      const sample = async () => {
        try {
          const [cpuMs, { peakKiB }] = await Promise.all([treeCpuMs(java.pid), memory(java.pid)]);
          if (peakKiB > 0) last = { cpuMs: Math.max(cpuMs, last.cpuMs), peakKiB };
        } catch { /* exited */ }
      };
      const sampler = setInterval(sample, 100);
      const lines: string[] = [];
      let code: number;
      try {
        await java.waitForLine((line, stream) => {
          if (stream === "stdout") lines.push(line);
          return stream === "stdout" && /^\d{4}-\d\d-\d\d/.test(line);
        }, {
          timeoutMs: FIRST_MESSAGE_TIMEOUT_MS + doneTimeoutMs(topic),
          what: "ConsumerPerformance's results",
        });
        await sample();
      } finally {
        clearInterval(sampler);
        code = await java.stop(10_000);
        await Deno.remove(dir, { recursive: true });
      }
      if (code !== 0) {
        throw new Error(`ConsumerPerformance exited ${code}:\n${java.tail.join("\n")}`);
      }
      const stats = parsePerfOutput(lines.join("\n"));
      const messages = stats["data.consumed.in.nMsg"] ?? NaN;
      const rate = stats["fetch.nMsg.sec"] ?? NaN;
      const mibPerSec = stats["fetch.MB.sec"] ?? NaN;
      if (!(messages > 0 && rate > 0)) {
        throw new Error(`ConsumerPerformance consumed nothing:\n${lines.join("\n")}`);
      }
      const elapsedMs = (messages / rate) * 1000;
      return {
        messages,
        bytes: (mibPerSec * 1024 * 1024 * elapsedMs) / 1000,
        elapsedMs,
        cpuMs: last.cpuMs,
        cpuScope: "total",
        peakKiB: last.peakKiB,
      };
    },
  };
}

/**
 * Where the CPU time goes: runs the Deno clients of the benchmark (raw
 * kafkajs B1 and consumerd R on the kafkajs engine, per message and per
 * batch; raw @platformatic/kafka B2 and R on the platformatic engine) once
 * each under
 * V8's sampling profiler (`--v8-flags=--prof`, 1 ms ticks, every isolate:
 * the daemon's supervisor and its worker too), and prints, per client, the
 * CPU µs per message by source area and the heaviest functions. Ticks are
 * attributed to the nearest JavaScript frame (bench/v8_profile.ts), within
 * the window where records are decoded.
 *
 * ```sh
 * deno run -A --unstable-worker-options bench/profile.ts [--size 100x1000000] [--only "R deno"]
 * ```
 *
 * `--produce` profiles the consume→produce clients instead (consumerd on the
 * platformatic engine and the raw platformatic loop, at-least-once), each
 * writing one output per input to an output topic made for the run.
 *
 * Needs Node on PATH (its tick processor reads the logs). Profiling slows
 * the clients down; use `deno task bench` for rates.
 *
 * @module
 */
import { join } from "node:path";
import { parseArgs } from "node:util";
import type { Client } from "./client.ts";
import { BenchCluster } from "./cluster.ts";
import { daemonClient } from "./daemon_client.ts";
import { parseSize } from "./options.ts";
import { formatNumber, msgPerSec } from "./report.ts";
import { scriptClient } from "./script_client.ts";
import { PARTITIONS, seedTopic } from "./seed.ts";
import { daemonProduceClient, outputTopic, platformaticProduceClient } from "./produce_section.ts";
import { type IsolateProfile, profileIsolateLog, type TickCount } from "./v8_profile.ts";

/** Rows of the top-functions list per isolate. */
const TOP_FUNCTIONS = 15;
/** Areas below this many µs/msg in every client are summed into one row. */
const MINOR_US = 0.02;

function clients(brokers: string[], denoFlags: string[]): Client[] {
  const script = "bench/clients/kafkajs_consumer.mjs";
  const runtime = "deno";
  return [
    scriptClient({
      family: "B1",
      runtime,
      mode: "message",
      modeName: "eachMessage",
      script,
      brokers,
      denoFlags,
    }),
    daemonClient({ runtime, mode: "message", brokers, denoFlags }),
    scriptClient({
      family: "B1",
      runtime,
      mode: "batch",
      modeName: "eachBatch",
      script,
      brokers,
      denoFlags,
    }),
    daemonClient({ runtime, mode: "batch", brokers, denoFlags }),
    scriptClient({
      family: "B2",
      runtime,
      mode: "message",
      modeName: "stream",
      script: "bench/clients/platformatic_consumer.mjs",
      brokers,
      denoFlags,
    }),
    daemonClient({ runtime, mode: "message", brokers, denoFlags, engine: "platformatic" }),
    daemonClient({ runtime, mode: "batch", brokers, denoFlags, engine: "platformatic" }),
  ];
}

/** With `--produce`: consumerd and the raw platformatic loop, consume→produce at-least-once. */
function produceProfileClients(
  brokers: string[],
  cluster: BenchCluster,
  denoFlags: string[],
): Client[] {
  const alo = { brokers, cluster, delivery: "at-least-once" as const, denoFlags };
  return [
    daemonProduceClient({ ...alo, engine: "platformatic" }),
    platformaticProduceClient(alo),
  ];
}

function isolateName(profile: IsolateProfile): string {
  const names = profile.areas.map((a) => a.name);
  if (names.some((n) => n.startsWith("consumerd src/worker/"))) return "worker";
  if (names.some((n) => n.startsWith("consumerd src/"))) return "supervisor";
  return "main";
}

function table(rows: TickCount[], total: number, messages: number, limit: number): string[] {
  const us = (ticks: number) => formatNumber((ticks * 1000) / messages);
  return [
    "| where | µs/msg | share | of which GC |",
    "| --- | --: | --: | --: |",
    ...rows.slice(0, limit).map((r) =>
      `| ${r.name.replaceAll("|", "\\|")} | ${us(r.ticks)} | ${
        ((100 * r.ticks) / total).toFixed(1)
      }% | ${us(r.gcTicks)} |`
    ),
  ];
}

async function main(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      size: { type: "string", default: "100x1000000" },
      only: { type: "string" },
      produce: { type: "boolean", default: false },
    },
  });
  const produce = values.produce;
  const brokers = (Deno.env.get("KAFKA_BROKERS") ?? "127.0.0.1:9092").split(",");
  const cluster = await BenchCluster.connect(brokers);
  const groups: string[] = [];
  const out: string[] = [];
  try {
    const topic = await seedTopic(cluster, parseSize(values.size, 1), {
      brokers,
      log: (l) => console.error(l),
    });
    const clientsOf = (denoFlags: string[]) =>
      produce ? produceProfileClients(brokers, cluster, denoFlags) : clients(brokers, denoFlags);
    if (produce) {
      await cluster.deleteTopics([outputTopic(topic.topic)]);
      await cluster.createTopic(outputTopic(topic.topic), PARTITIONS);
    }
    const comparison = new Map<string, Map<string, number>>();
    const labels: string[] = [];
    for (const label of clientsOf([]).map((c) => c.label)) {
      if (values.only !== undefined && !label.toLowerCase().includes(values.only.toLowerCase())) {
        continue;
      }
      const dir = await Deno.makeTempDir({ prefix: "consumerd-profile-" });
      const flags = [`--v8-flags=--prof,--logfile=${join(dir, "v8.log")}`];
      const client = clientsOf(flags).find((c) => c.label === label)!;
      const group = `bench-profile-${Date.now().toString(36)}-${groups.length}`;
      groups.push(group);
      console.error(`profiling ${label} on ${topic.topic}`);
      const sample = await client.run(topic, group);
      labels.push(label);
      out.push(
        `## ${label} (${formatNumber(msgPerSec(sample))} msg/s while profiled)`,
        "",
      );
      for await (const entry of Deno.readDir(dir)) {
        if (!/^isolate-.*\.log$/.test(entry.name)) continue;
        const profile = await profileIsolateLog(join(dir, entry.name));
        if (profile.ticks === 0) continue;
        const name = isolateName(profile);
        const perMsg = (profile.ticks * 1000) / sample.messages;
        const scope = profile.windowed
          ? `${profile.ticks} ticks in the window, ${profile.gcTicks} GC; ${profile.outside} outside`
          : `${profile.ticks} ticks in its whole life, start-up included; not in the comparison`;
        out.push(
          `### ${name} isolate: ${formatNumber(perMsg)} µs/msg (${scope})`,
          "",
          ...table(profile.areas, profile.ticks, sample.messages, 12),
          "",
          ...table(profile.functions, profile.ticks, sample.messages, TOP_FUNCTIONS),
          "",
        );
        // Only the consumption window compares: an isolate that decoded nothing (the
        // supervisor) has no window, so its start-up would swamp its share.
        if (!profile.windowed) continue;
        for (const area of profile.areas) {
          const row = comparison.get(area.name) ?? new Map<string, number>();
          row.set(label, (row.get(label) ?? 0) + (area.ticks * 1000) / sample.messages);
          comparison.set(area.name, row);
        }
      }
      await Deno.remove(dir, { recursive: true });
    }
    const all = [...comparison.entries()].sort((a, b) =>
      Math.max(...b[1].values()) - Math.max(...a[1].values())
    );
    const rows = all.filter(([, byClient]) => Math.max(...byClient.values()) >= MINOR_US);
    const minor = new Map<string, number>();
    for (const [, byClient] of all.filter((r) => !rows.includes(r))) {
      for (const [label, us] of byClient) minor.set(label, (minor.get(label) ?? 0) + us);
    }
    rows.push([`everything else (each below ${MINOR_US} µs/msg)`, minor]);
    console.log(
      [
        `# CPU µs per message by area, ${topic.topic} (isolates that decode records)`,
        "",
        `| area | ${labels.join(" | ")} |`,
        `| --- | ${labels.map(() => "--:").join(" | ")} |`,
        ...rows.map(([area, byClient]) =>
          `| ${area} | ${labels.map((l) => formatNumber(byClient.get(l) ?? 0)).join(" | ")} |`
        ),
        `| **total** | ${
          labels.map((l) =>
            formatNumber(rows.reduce((sum, [, byClient]) => sum + (byClient.get(l) ?? 0), 0))
          ).join(" | ")
        } |`,
        "",
        ...out,
      ].join("\n"),
    );
    if (produce) await cluster.deleteTopics([outputTopic(topic.topic)]);
    return 0;
  } finally {
    await cluster.deleteGroups(groups);
    await cluster.close();
  }
}

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}

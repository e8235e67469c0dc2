/**
 * `consumerd offsets` and `consumerd reset-offsets`: a group's committed
 * offsets on a topic, read from Kafka, and moving them while the group is
 * inactive.
 *
 * @module
 */
import type { KafkaConfig } from "../config/types.ts";
import { KafkaAdmin } from "../kafka/kafkajs/admin.ts";
import { lag } from "../supervisor/status.ts";
import {
  parsePartitionList,
  parseResetTarget,
  type PartitionOffsets,
  planReset,
} from "../offsets/reset_plan.ts";
import type { CommandOutput } from "./check.ts";
import { readDaemonStatus } from "./daemon_status.ts";
import type { DaemonTarget } from "./kafka_target.ts";
import { consumersInTheWay, daemonRefusal, movedOffsets, movedRefusal } from "./reset_guard.ts";
import { formatTable } from "./table.ts";

/** Options shared by the offset commands. */
export interface OffsetsCommandOptions extends CommandOutput {
  kafka: KafkaConfig;
  group: string;
  topic: string;
}

/** What `consumerd offsets --json` prints. Offsets are decimal strings (64-bit). */
export interface OffsetsReport {
  group: string;
  topic: string;
  partitions: Array<{
    partition: number;
    /** The group's committed offset, or null. */
    committed: string | null;
    logStart: string;
    highWatermark: string;
    /** As `/status` computes it; null without a committed offset. */
    lag: string | null;
  }>;
}

async function partitionOffsets(
  admin: KafkaAdmin,
  group: string,
  topic: string,
): Promise<PartitionOffsets[] | string> {
  if (!(await admin.listTopics()).includes(topic)) return `topic \`${topic}\` does not exist`;
  const [marks, committed] = await Promise.all([
    admin.watermarks(topic),
    admin.committed(group, topic),
  ]);
  const byPartition = new Map(committed.map((c) => [c.partition, c.offset]));
  return marks.map((w) => ({
    partition: w.partition,
    committed: byPartition.get(w.partition) ?? null,
    low: w.low,
    high: w.high,
  }));
}

/**
 * A partition's lag as `/status` computes it: high watermark − committed,
 * never below 0 (a committed offset past the end, say after the topic was
 * recreated, leaves nothing to read); null without a committed offset.
 *
 * @example
 * ```ts
 * lagOf({ partition: 0, committed: "50", low: "0", high: "10" }); // "0"
 * ```
 */
export function lagOf(p: PartitionOffsets): string | null {
  return lag({
    partition: p.partition,
    processed: null,
    committed: p.committed,
    highWatermark: p.high,
  });
}

async function withAdmin(
  options: OffsetsCommandOptions,
  fn: (admin: KafkaAdmin) => Promise<number>,
): Promise<number> {
  const { kafka, err = console.error } = options;
  let admin: KafkaAdmin;
  try {
    admin = await KafkaAdmin.connect(kafka, "cli");
  } catch (error) {
    err(
      `error: cannot reach brokers ${kafka.brokers.join(",")}: ${
        error instanceof Error ? error.message : String(error)
      }`,
    );
    return 1;
  }
  try {
    return await fn(admin);
  } finally {
    await admin.close().catch(() => {});
  }
}

/** Prints committed offset, log start, high watermark and lag per partition. */
export function offsetsCommand(
  options: OffsetsCommandOptions & { json?: boolean },
): Promise<number> {
  const { group, topic, json = false, out = console.log, err = console.error } = options;
  return withAdmin(options, async (admin) => {
    const offsets = await partitionOffsets(admin, group, topic);
    if (typeof offsets === "string") {
      err(`error: ${offsets}`);
      return 1;
    }
    if (json) {
      const report: OffsetsReport = {
        group,
        topic,
        partitions: offsets.map((p) => ({
          partition: p.partition,
          committed: p.committed,
          logStart: p.low,
          highWatermark: p.high,
          lag: lagOf(p),
        })),
      };
      out(JSON.stringify(report, null, 2));
      return 0;
    }
    out(formatTable(
      ["GROUP", "TOPIC", "PARTITION", "COMMITTED", "LOG-START", "HIGH-WATERMARK", "LAG"],
      offsets.map((p) => [
        group,
        topic,
        String(p.partition),
        p.committed ?? "-",
        p.low,
        p.high,
        lagOf(p) ?? "-",
      ]),
    ));
    return 0;
  });
}

/** Options for {@linkcode resetOffsetsCommand}. */
export interface ResetOffsetsOptions extends OffsetsCommandOptions {
  /** `earliest`, `latest`, an offset or an ISO time. */
  to: string;
  /** `0,2`; default every partition. */
  partitions?: string | undefined;
  dryRun: boolean;
  /** A daemon to ask whether it consumes the group and topic (`--url`, or the config's). */
  daemon?: DaemonTarget | null;
  /** How long to watch the committed offsets for commits from outside the group, ms. */
  watchMs?: number;
  /** Reset even though a daemon runs such a consumer or the offsets moved. */
  force?: boolean;
}

/** Default of {@linkcode ResetOffsetsOptions.watchMs}: longer than the default commit interval (5 s). */
export const DEFAULT_WATCH_MS = 6000;

/**
 * Prints from → to for each partition, then commits the new offsets, unless
 * `dryRun` or something would commit over them (then it refuses, exit 1):
 * active group members, a consumer of the group and topic that `daemon`
 * runs, or committed offsets that move within `watchMs` (a consumer that
 * commits without joining the group). `force` skips the last two.
 */
export function resetOffsetsCommand(options: ResetOffsetsOptions): Promise<number> {
  const { group, topic, dryRun, out = console.log, err = console.error } = options;
  const target = parseResetTarget(options.to);
  if (typeof target === "string") {
    err(`error: ${target}`);
    return Promise.resolve(2);
  }
  return withAdmin(options, async (admin) => {
    let offsets = await partitionOffsets(admin, group, topic);
    if (typeof offsets === "string") {
      err(`error: ${offsets}`);
      return 1;
    }
    if (options.partitions !== undefined) {
      const wanted = parsePartitionList(options.partitions, offsets.map((p) => p.partition));
      if (typeof wanted === "string") {
        err(`error: ${wanted}`);
        return 2;
      }
      offsets = offsets.filter((p) => wanted.includes(p.partition));
    }
    if (target.kind === "time") {
      const atTime = new Map(
        (await admin.offsetsForTime(topic, target.ms)).map((o) => [o.partition, o.offset]),
      );
      offsets = offsets.map((p) => ({ ...p, atTime: atTime.get(p.partition) ?? null }));
    }
    const plan = planReset(target, offsets);
    const what = target.kind === "time"
      ? `the first message at or after ${target.text}`
      : target.kind === "offset"
      ? `offset ${target.offset}`
      : target.kind;
    out(`group ${group}, topic ${topic}: reset to ${what}`);
    out(formatTable(
      ["PARTITION", "FROM", "TO", "NOTE"],
      plan.map((s) => [String(s.partition), s.from ?? "-", s.to, s.note ?? ""]),
    ));
    const { state, members } = await admin.groupState(group);
    if (members > 0 && dryRun) {
      out(
        `dry run: nothing changed (and the group has ${members} active members: a real reset would be refused)`,
      );
      return 0;
    }
    if (members > 0) {
      err(
        `error: refusing to reset: group ${group} has ${members} active member${
          members > 1 ? "s" : ""
        } (state ${state}); stop the daemons consuming with this group first, ` +
          "so that no member commits over the reset",
      );
      return 1;
    }
    const refusal = options.force
      ? null
      : await outsideCommitter(admin, plan.map((s) => s.partition), options);
    if (refusal !== null && dryRun) {
      out(`dry run: nothing changed (and a real reset would be refused: ${refusal})`);
      return 0;
    }
    if (refusal !== null) {
      err(`error: refusing to reset: ${refusal}`);
      return 1;
    }
    if (dryRun) {
      out("dry run: nothing changed");
      return 0;
    }
    try {
      await admin.commitOffsets(
        group,
        topic,
        plan.map((s) => ({ partition: s.partition, offset: s.to })),
      );
    } catch (error) {
      // A member joined between the check and the commit: Kafka refused it.
      err(`error: refusing to reset: ${error instanceof Error ? error.message : String(error)}`);
      return 1;
    }
    out(`committed ${plan.length} partition${plan.length === 1 ? "" : "s"}`);
    return 0;
  });
}

/**
 * Why a consumer outside the group's membership would commit over a reset
 * of `partitions`, or null: the daemon says it runs one, or the committed
 * offsets move while they are watched.
 */
async function outsideCommitter(
  admin: KafkaAdmin,
  partitions: number[],
  options: ResetOffsetsOptions,
): Promise<string | null> {
  const { group, topic, daemon = null, watchMs = DEFAULT_WATCH_MS, out = console.log } = options;
  if (daemon !== null) {
    const answer = await readDaemonStatus(daemon.url, daemon.token ?? undefined);
    if (answer.kind === "absent") {
      out(`no daemon answers at ${daemon.url}; going by the committed offsets alone`);
    } else if (answer.kind === "failed") {
      return `cannot ask the daemon at ${daemon.url} whether it consumes group ${group}: ` +
        `${answer.reason} (or pass --force)`;
    } else {
      let found;
      try {
        found = consumersInTheWay(answer.body, { group, topic, partitions });
      } catch (error) {
        return `the daemon at ${daemon.url}: ${(error as Error).message} (or pass --force)`;
      }
      if (found.length > 0) return daemonRefusal(daemon.url, found, { group, topic });
    }
  }
  if (watchMs <= 0) return null;
  out(
    `watching the committed offsets for ${watchMs / 1000} s: a consumer that commits ` +
      "without joining the group (simple mode) would move them",
  );
  const read = async () =>
    new Map((await admin.committed(group, topic)).map((c) => [c.partition, c.offset]));
  const before = await read();
  await new Promise((r) => setTimeout(r, watchMs));
  const moved = movedOffsets(before, await read(), partitions);
  return moved.length === 0 ? null : movedRefusal(moved, { group, topic, watchMs });
}

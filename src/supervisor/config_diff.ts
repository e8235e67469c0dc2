/**
 * What a reload must do: the difference between the running config and a
 * new one, per consumer. Pure.
 *
 * - a consumer only in the new config is added (started);
 * - one only in the running config is removed (drained and stopped);
 * - one whose definition or handler changed, or every consumer when
 *   `kafka:` changed, is restarted: drained, then started anew when its
 *   definition or handler changed, or reconnected when `kafka:` alone did
 *   ({@linkcode isReconnect});
 * - one whose `replicas` alone changed is scaled (workers added or drained);
 * - the rest is unchanged and left alone.
 *
 * @module
 */
import type { ConfigSnapshot, ConsumerSnapshot } from "./fingerprint.ts";

/** Why a consumer is restarted. */
export type RestartReason = "definition" | "handler" | "kafka";

/** One restarted consumer and why. */
export interface Restart {
  name: string;
  reasons: RestartReason[];
}

/** One consumer whose replica count changed, and nothing else. */
export interface Scale {
  name: string;
  from: number;
  to: number;
}

/** The difference between two configs. */
export interface ConfigDiff {
  kafkaChanged: boolean;
  httpChanged: boolean;
  added: string[];
  removed: string[];
  restarted: Restart[];
  scaled: Scale[];
  unchanged: string[];
}

function restartReasons(
  from: ConsumerSnapshot,
  to: ConsumerSnapshot,
  kafkaChanged: boolean,
): RestartReason[] {
  const reasons: RestartReason[] = [];
  if (from.definition !== to.definition) reasons.push("definition");
  if (from.handler !== to.handler) reasons.push("handler");
  if (kafkaChanged) reasons.push("kafka");
  return reasons;
}

/**
 * Whether a restart only reconnects: `kafka:` changed, the consumer's own
 * definition (`defaults:` applied) and handler did not. Its workers drain and
 * new ones resume from committed offsets, as after a crash; it is not a new
 * start, so `resetOffsetOnStart` resets nothing.
 *
 * @example
 * ```ts
 * isReconnect({ name: "audit", reasons: ["kafka"] }); // true
 * isReconnect({ name: "audit", reasons: ["handler", "kafka"] }); // false
 * ```
 */
export function isReconnect(restart: Restart): boolean {
  return restart.reasons.every((reason) => reason === "kafka");
}

/**
 * The per-consumer difference between the running config and the next one.
 *
 * @example
 * ```ts
 * const diff = diffConfigs(running, next);
 * diff.added; // ["billing"]
 * ```
 */
export function diffConfigs(current: ConfigSnapshot, next: ConfigSnapshot): ConfigDiff {
  const kafkaChanged = current.kafka !== next.kafka;
  const before = new Map(current.consumers.map((c) => [c.name, c]));
  const after = new Set(next.consumers.map((c) => c.name));
  const diff: ConfigDiff = {
    kafkaChanged,
    httpChanged: current.http !== next.http,
    added: [],
    removed: current.consumers.filter((c) => !after.has(c.name)).map((c) => c.name),
    restarted: [],
    scaled: [],
    unchanged: [],
  };
  for (const to of next.consumers) {
    const from = before.get(to.name);
    if (from === undefined) {
      diff.added.push(to.name);
      continue;
    }
    const reasons = restartReasons(from, to, kafkaChanged);
    if (reasons.length > 0) diff.restarted.push({ name: to.name, reasons });
    else if (from.replicas !== to.replicas) {
      diff.scaled.push({ name: to.name, from: from.replicas, to: to.replicas });
    } else diff.unchanged.push(to.name);
  }
  return diff;
}

/**
 * Whether applying `diff` changes any consumer or the status server.
 *
 * @example
 * ```ts
 * changesAnything(diffConfigs(snapshot, snapshot)); // false
 * ```
 */
export function changesAnything(diff: ConfigDiff): boolean {
  return diff.kafkaChanged || diff.httpChanged || diff.added.length > 0 ||
    diff.removed.length > 0 ||
    diff.restarted.length > 0 || diff.scaled.length > 0;
}

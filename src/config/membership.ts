/**
 * How a consumer's workers take part in its group, derived from its
 * definition and `kafka:`: the engine, the group protocol and, with static
 * membership, each worker's group.instance.id. Pure.
 *
 * @module
 */
import type { ConsumerConfig, Engine, KafkaConfig } from "./types.ts";

/** The engine a consumer reads with: its own, else `kafka.engine`. */
export function engineOf(consumer: Pick<ConsumerConfig, "engine">, kafka: KafkaConfig): Engine {
  return consumer.engine ?? kafka.engine;
}

/** The group protocol a consumer joins with: its own, else `kafka.groupProtocol`. */
export function groupProtocolOf(
  consumer: Pick<ConsumerConfig, "groupProtocol">,
  kafka: KafkaConfig,
): KafkaConfig["groupProtocol"] {
  return consumer.groupProtocol ?? kafka.groupProtocol;
}

/**
 * The group.instance.id of replica `replica` of a balanced consumer,
 * `<kafka.instanceId>.<consumer>.<replica>`; null without static membership
 * (an empty `kafka.instanceId`) and in simple mode (no group membership).
 *
 * @example
 * ```ts
 * groupInstanceId({ name: "audit", mode: "balanced" }, { instanceId: "pod-0" }, 1); // "pod-0.audit.1"
 * ```
 */
export function groupInstanceId(
  consumer: Pick<ConsumerConfig, "name" | "mode">,
  kafka: Pick<KafkaConfig, "instanceId">,
  replica: number,
): string | null {
  if (kafka.instanceId === "" || consumer.mode !== "balanced") return null;
  return `${kafka.instanceId}.${consumer.name}.${replica}`;
}

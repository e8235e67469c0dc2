/**
 * Applying a reload's difference to the running consumers: removed ones
 * drain and stop, changed ones drain and start anew, ones that only see a
 * `kafka:` change reconnect, scaled ones add or drain workers, added ones
 * start; unchanged ones keep their workers and objects.
 *
 * @module
 */
import type { ConsumerConfig, KafkaConfig } from "../config/types.ts";
import { groupProtocolOf } from "../config/membership.ts";
import type { Logger } from "../log.ts";
import { type ConfigDiff, isReconnect } from "./config_diff.ts";
import type { Slot, Slots } from "./slots.ts";
import { addStats, emptyStats } from "./status.ts";

/** What applying a difference works on. */
export interface ApplyContext {
  slots: Slots;
  logger: Logger;
  /** The new config's `kafka:` section (the running config is already the new one). */
  kafka: () => KafkaConfig;
  /** Whether the daemon is shutting down: nothing starts anew then. */
  stopping: () => boolean;
}

/**
 * Applies `diff` to the slots; `consumer(name)` is the running definition of
 * a consumer the new config keeps. Workers that drain have until `deadline`
 * (epoch ms).
 *
 * @example
 * ```ts ignore
 * await applyDiff(diff, (name) => byName.get(name)!, Date.now() + 30_000, context);
 * ```
 */
export async function applyDiff(
  diff: ConfigDiff,
  consumer: (name: string) => ConsumerConfig,
  deadline: number,
  context: ApplyContext,
): Promise<void> {
  await Promise.all([
    ...diff.removed.map((name) => retireConsumer(name, deadline, context)),
    ...diff.restarted.map((r) =>
      isReconnect(r)
        ? reconnectConsumer(consumer(r.name), deadline, context)
        : restartConsumer(consumer(r.name), deadline, context)
    ),
    ...diff.scaled.map((s) => scaleConsumer(consumer(s.name), deadline, context)),
    ...diff.added.map((name) => Promise.resolve(context.slots.startConsumer(consumer(name)))),
  ]);
}

/** Removes a consumer: its workers finish in-flight handlers, commit, leave the group and stop. */
async function retireConsumer(
  name: string,
  deadline: number,
  { slots, logger }: ApplyContext,
): Promise<boolean> {
  const removed = slots.removeConsumer(name);
  const clean = await slots.drain(removed, deadline);
  logger.info("consumer drained", { consumer: name, clean });
  return clean;
}

/** Drains a consumer, then starts it with its new definition (a new start). */
async function restartConsumer(
  consumer: ConsumerConfig,
  deadline: number,
  context: ApplyContext,
): Promise<void> {
  await retireConsumer(consumer.name, deadline, context);
  if (!context.stopping()) context.slots.startConsumer(consumer);
}

/**
 * Moves a consumer whose own definition and handler did not change to new
 * `kafka:` settings: each worker drains (finishes its handler calls,
 * commits, leaves the group) and a new one takes its place, as after a
 * crash. Its start is not repeated: partitions resume from committed
 * offsets and `resetOffsetOnStart` resets nothing (resets its start still
 * owes are done once, as after a crash). A changed `replicas` scales it.
 */
async function reconnectConsumer(
  consumer: ConsumerConfig,
  deadline: number,
  context: ApplyContext,
): Promise<void> {
  const { slots, logger } = context;
  const run = slots.run(consumer.name);
  if (run === undefined) return await restartConsumer(consumer, deadline, context);
  const kafka = context.kafka();
  logger.info(
    "consumer reconnecting with the new kafka settings; it resumes from committed offsets",
    { consumer: consumer.name },
  );
  // Takes out the surplus, adds workers with the new settings (or, before
  // the start settled, restarts the consumer) before the first await.
  const scaling = consumer.replicas === run.consumer.replicas
    ? Promise.resolve()
    : scaleConsumer(consumer, deadline, context);
  const moving = slots.of(consumer.name).filter((s) => s.kafka !== kafka);
  run.consumer = consumer;
  // A start that still owes resets goes on under the new group protocol.
  if (groupProtocolOf(consumer, kafka) === "consumer") run.settler.expectTwoStepMoves();
  await Promise.all([
    scaling,
    ...moving.map((slot) => reconnectSlot(slot, consumer, deadline, context)),
  ]);
}

/** Drains a slot's worker and queues its successor, which connects with the new `kafka:`. */
async function reconnectSlot(
  slot: Slot,
  consumer: ConsumerConfig,
  deadline: number,
  { slots, kafka, stopping }: ApplyContext,
): Promise<void> {
  const { handle, kafka: previous } = slot;
  slot.consumer = consumer;
  // Any worker this slot starts from now on (a restart included) uses the new settings.
  slot.kafka = kafka();
  if (handle === null) return;
  await slots.whileRetiring(
    handle,
    () => slots.drainOrEvict(slot, handle, deadline, { kafka: previous }),
  );
  // Ended otherwise meanwhile (the control pass restarts it), or the consumer left.
  if (stopping() || slot.handle !== handle || !slots.holds(slot)) return;
  if (handle.stats) slot.retired = addStats(slot.retired, handle.stats);
  slot.handle = null;
  const run = slots.run(slot.consumer.name);
  if (run !== undefined) run.send(run.settler.gone(slot.replica));
  slots.queue(slot);
}

/**
 * Adds or drains the replicas of a consumer whose `replicas` alone
 * changed. The others keep running; partitions that reach them through the
 * rebalance start from committed offsets (a scale is not a start), and
 * the resets a settled start still owes go on. A consumer whose start has
 * not settled yet is restarted instead.
 */
async function scaleConsumer(
  consumer: ConsumerConfig,
  deadline: number,
  context: ApplyContext,
): Promise<void> {
  const { slots, logger } = context;
  const run = slots.run(consumer.name);
  if (run === undefined || !run.settler.settled) {
    return await restartConsumer(consumer, deadline, context);
  }
  const current = slots.of(consumer.name);
  const surplus = current.filter((s) => s.replica >= consumer.replicas);
  slots.remove(surplus);
  run.rescale(consumer, logger.child({ consumer: consumer.name }));
  for (const slot of current) slot.consumer = consumer;
  for (let replica = current.length; replica < consumer.replicas; replica++) {
    slots.add(consumer, replica);
  }
  await slots.drain(surplus, deadline);
  run.retired = surplus.reduce(
    (sum, s) => addStats(addStats(sum, s.retired), s.handle?.stats ?? emptyStats()),
    run.retired,
  );
}

/**
 * One kafkajs cluster for a consumer and the admin client that describes
 * its partitions.
 *
 * kafkajs gives every client it creates (`kafka.consumer()`,
 * `kafka.admin()`) a cluster of its own: its own metadata and its own
 * connections to every broker. A worker's admin client only reads its
 * group's committed offsets and its topic's watermarks at each assignment,
 * yet it cost each worker two more connections, their handshakes and
 * metadata requests at start (with 50 workers starting at once, about a
 * tenth of the CPU the start needs). Here the admin client is built on the
 * consumer's cluster: it is never connected or disconnected on its own (the
 * consumer does both), and it reads offsets with the consumer's isolation
 * level (read committed).
 *
 * kafkajs keeps the function that builds a cluster on each `Kafka` instance
 * under a private symbol; this module finds it by its description and
 * fails at once, naming it, when an installed kafkajs has no such property.
 *
 * @module
 */
import type { Admin, Consumer, ConsumerConfig, Kafka } from "kafkajs";

/** The description of kafkajs's private `createCluster` symbol (kafkajs 2.x). */
export const CREATE_CLUSTER = "private:Kafka:createCluster";

type CreateCluster = (options: unknown) => unknown;

/**
 * A consumer and an admin client that share one cluster.
 *
 * @throws {Error} When `kafka` has no `createCluster` function (kafkajs changed).
 */
export function consumerWithAdmin(
  kafka: Kafka,
  config: ConsumerConfig,
): { consumer: Consumer; admin: Admin } {
  const holder = kafka as unknown as Record<symbol, CreateCluster>;
  const key = Object.getOwnPropertySymbols(kafka).find((s) => s.description === CREATE_CLUSTER);
  const create = key === undefined ? undefined : holder[key];
  if (key === undefined || typeof create !== "function") {
    throw new Error(
      `kafkajs: no "${CREATE_CLUSTER}" function on the client; ` +
        "the installed kafkajs is not the 2.x this engine was built for",
    );
  }
  let cluster: unknown = null;
  holder[key] = (options) => (cluster ??= create(options));
  try {
    const consumer = kafka.consumer(config);
    const admin = kafka.admin();
    return { consumer, admin };
  } finally {
    holder[key] = create;
  }
}

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
 * The shared cluster is also where the consumer's group membership can be
 * held back: kafkajs's consumer group finds its coordinator through the
 * cluster before every JoinGroup, after its fetchers stopped (the batches in
 * hand ended). With `beforeJoin`, every coordinator it is handed awaits the
 * hook before it sends a JoinGroup for the group — the place to finish what
 * the current generation still owns (kafkajs has no rebalance listener).
 * `onJoining` learns the member id the coordinator gave a join still under
 * way (kafkajs keeps it to itself until the join completes): a member that
 * stops then can still be removed from its group.
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
  hooks: JoinHooks = {},
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
  holder[key] = (options) => {
    if (cluster === null) {
      cluster = create(options);
      if (hooks.beforeJoin || hooks.onJoining) holdJoins(cluster, config.groupId, hooks);
    }
    return cluster;
  };
  try {
    const consumer = kafka.consumer(config);
    const admin = kafka.admin();
    return { consumer, admin };
  } finally {
    holder[key] = create;
  }
}

/** What {@linkcode consumerWithAdmin} does around each JoinGroup of the consumer's group. */
export interface JoinHooks {
  /** Awaited before the JoinGroup is sent. */
  beforeJoin?: () => Promise<void>;
  /** The member id the join goes on with, once the coordinator has given one. */
  onJoining?: (memberId: string) => void;
}

/** The part of kafkajs's internal `Cluster` and `Broker` the join hook wraps. */
interface JoiningCluster {
  findGroupCoordinator(request: { groupId: string }): Promise<JoiningBroker>;
}
interface JoiningBroker {
  joinGroup(request: { groupId: string }): Promise<unknown>;
  lookupRequest(apiKey: number, definition: unknown): RequestBuilder;
}
type RequestBuilder = (args: { memberId?: unknown } | undefined) => unknown;

/** JoinGroup's API key in Kafka's protocol. */
const JOIN_GROUP_API_KEY = 11;

/**
 * Makes every JoinGroup for `groupId` sent through a coordinator this
 * cluster finds await `beforeJoin` first, and tells `onJoining` the member
 * id it goes on with: the one it sends, or the one a MEMBER_ID_REQUIRED
 * answer gives it (KIP-394), which kafkajs sends again at once.
 *
 * @throws {Error} When the cluster has no `findGroupCoordinator` (kafkajs changed).
 */
function holdJoins(
  cluster: unknown,
  groupId: string,
  { beforeJoin, onJoining }: JoinHooks,
): void {
  const target = cluster as JoiningCluster;
  if (typeof target?.findGroupCoordinator !== "function") {
    throw new Error(
      "kafkajs: the cluster has no findGroupCoordinator function; " +
        "the installed kafkajs is not the 2.x this engine was built for",
    );
  }
  const find = target.findGroupCoordinator.bind(target);
  const held = new WeakSet<JoiningBroker>();
  target.findGroupCoordinator = async (request) => {
    const broker = await find(request);
    if (request.groupId !== groupId || held.has(broker)) return broker;
    if (typeof broker?.joinGroup !== "function" || typeof broker.lookupRequest !== "function") {
      throw new Error(
        "kafkajs: the group coordinator has no joinGroup or lookupRequest function; " +
          "the installed kafkajs is not the 2.x this engine was built for",
      );
    }
    const join = broker.joinGroup.bind(broker);
    broker.joinGroup = async (joinRequest) => {
      if (joinRequest.groupId !== groupId) return await join(joinRequest);
      await beforeJoin?.();
      if (onJoining === undefined) return await join(joinRequest);
      // kafkajs answers MEMBER_ID_REQUIRED (KIP-394) inside joinGroup(), with a second request
      // built by what lookupRequest() returned at its start: that builder shows the member id.
      const lookup = broker.lookupRequest;
      broker.lookupRequest = (apiKey, definition) => {
        const build = lookup.call(broker, apiKey, definition);
        return apiKey !== JOIN_GROUP_API_KEY ? build : (args) => {
          if (typeof args?.memberId === "string" && args.memberId !== "") onJoining(args.memberId);
          return build(args);
        };
      };
      let joining: Promise<unknown>;
      try {
        joining = join(joinRequest); // looks its request up before its first await
      } finally {
        broker.lookupRequest = lookup;
      }
      return await joining;
    };
    held.add(broker);
    return broker;
  };
}

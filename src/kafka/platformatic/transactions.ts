/**
 * `delivery: exactly-once` on the platformatic engine: a worker's
 * transactional producer, and the commit that puts a commit point's outputs
 * and its input offsets in one Kafka transaction.
 *
 * Each commit of the session (after a batch, on the commit interval, before
 * a rejoin, at shutdown) becomes one transaction: the records of the
 * messages it commits (taken from the worker's buffer), then the offsets by
 * TxnOffsetCommit under the member's generation and member id (KIP-447: a
 * zombie whose generation is over is refused), then EndTxn. Under the
 * consumer protocol the member epoch is read right before the offsets, and
 * offsets refused as stale are sent again under the member's new epoch
 * while it keeps its partitions; in simple mode they go without membership
 * (see {@linkcode NO_MEMBER_ID}). Nothing else is retried: a transaction
 * that failed is aborted and the committer is broken
 * for good (every later commit rejects), so that the worker stops and its
 * next run starts again from the last committed offsets.
 *
 * The transactional id is stable per worker slot: the next run of the slot
 * (a restarted worker, a restarted daemon) takes it over, which aborts the
 * transaction its predecessor left open and fences that predecessor's
 * producer, before the session reads a committed offset.
 *
 * @module
 */
import type { Consumer } from "@platformatic/kafka";
import type { KafkaConfig } from "../../config/types.ts";
import { errorFields, type Logger } from "../../log.ts";
import type { ProduceRecord } from "../../produce_record.ts";
import type { GroupMember, PartitionOffset } from "../session.ts";
import { type RawProducer, RecordRouter } from "./record_routing.ts";
import { loadPlatformatic, type Platformatic } from "./library.ts";
import { callApi, nodeConnection } from "./node_call.ts";
import { errorIds } from "./error_ids.ts";
import { commitRejection } from "../commit_rejected.ts";

export { simpleModeSlot, transactionalId } from "./transactional_id.ts";
import { connectionOptions } from "./client.ts";

type RawTransaction = Awaited<ReturnType<RawProducer["beginTransaction"]>>;

/**
 * How long the broker lets a transaction of the committer stay open before
 * it aborts it (transaction.timeout.ms; Java's default). A transaction is
 * open only while a commit sends it (its records, its offsets, EndTxn), so
 * this bounds how long a worker that died in the middle of one holds back
 * `read_committed` readers of its output partitions, unless the next run of
 * its slot ends it sooner. Within the broker's transaction.max.timeout.ms
 * (15 minutes by default).
 */
export const TRANSACTION_TIMEOUT_MS = 60_000;
/** TxnOffsetCommit from version 3 carries the member's generation, member id and instance id. */
const TXN_OFFSET_COMMIT_MEMBER_VERSION = 3;
/**
 * The member id a commit without membership (simple mode, generation -1)
 * sends. The coordinator takes a transaction's offsets with generation -1
 * and an empty member id even from outside a group that has members (only
 * a plain OffsetCommit is refused then); with a member id no member has, it
 * takes them while the group has no members and refuses them otherwise
 * (UNKNOWN_MEMBER_ID), as it does a simple-mode consumer's OffsetCommit.
 */
export const NO_MEMBER_ID = "consumerd-without-membership";
/**
 * What the coordinator answers a transaction's offsets sent under a member
 * epoch older than the member's (Kafka 4.1 turns STALE_MEMBER_EPOCH into
 * ILLEGAL_GENERATION for TxnOffsetCommit).
 */
const STALE_EPOCH = new Set(["ILLEGAL_GENERATION", "STALE_MEMBER_EPOCH"]);
/** Offsets sent again after a stale epoch, at most, in one transaction. */
const STALE_EPOCH_RETRIES = 5;
/** How long a refused commit waits for the member's new epoch, and how often it looks, ms. */
const STALE_EPOCH_WAIT_MS = 10_000;
const STALE_EPOCH_POLL_MS = 50;

/**
 * How often the library tries a transaction's request again before the
 * transaction fails (and the worker restarts): CONCURRENT_TRANSACTIONS for
 * about 600 ms (10 + 20 + … + 300 ms, see {@linkcode transactionRetryDelay}),
 * anything else it may retry for about 2 s.
 */
const TRANSACTION_RETRIES = 6;
/** The wait before another try, ms; CONCURRENT_TRANSACTIONS starts shorter (see below). */
const RETRY_DELAY_MS = 300;
const CONCURRENT_TRANSACTIONS_FIRST_RETRY_MS = 10;

/**
 * How long the library waits before it tries a transaction's request again
 * (`attempt` counts from 1). The coordinator answers CONCURRENT_TRANSACTIONS
 * to the next transaction's first AddPartitionsToTxn while it still writes
 * the markers of the last one, which takes tens of milliseconds: that is
 * tried again soon, then less and less often (10, 20, 40 … ms, at most
 * {@linkcode RETRY_DELAY_MS}), as Java's client does. A fixed 300 ms there
 * held every transaction that carried records for about 300 ms.
 *
 * @example
 * ```ts
 * const busy = { apiId: "CONCURRENT_TRANSACTIONS" };
 * transactionRetryDelay(null, "addPartitionsToTransaction", 1, 20, busy); // 10
 * transactionRetryDelay(null, "addPartitionsToTransaction", 3, 20, busy); // 40
 * transactionRetryDelay(null, "endTransaction", 1, 20, new Error("reset")); // 300
 * ```
 */
export function transactionRetryDelay(
  _client: unknown,
  _operation: string,
  attempt: number,
  _retries: number,
  error: unknown,
): number {
  if (!errorIds(error).includes("CONCURRENT_TRANSACTIONS")) return RETRY_DELAY_MS;
  return Math.min(RETRY_DELAY_MS, CONCURRENT_TRANSACTIONS_FIRST_RETRY_MS * 2 ** (attempt - 1));
}

/** The setting the checks of a record name. */
const UNDER = "delivery: exactly-once";

/** Options for {@linkcode TransactionalCommitter.create}. */
export interface TransactionalCommitterOptions {
  kafka: KafkaConfig;
  clientIdSuffix: string;
  /** Stable per worker slot: see {@linkcode transactionalId}. */
  transactionalId: string;
  /** The consumer group, and the topic its offsets are of. */
  group: string;
  topic: string;
  /** Removes and returns the records of the messages below `offsets` (what this commit carries). */
  take(offsets: readonly PartitionOffset[]): ProduceRecord[];
  logger: Logger;
  /** Called as each transaction ends: committed or aborted, its records, how long it took. */
  ended?(end: TransactionEnd): void;
}

/** How a transaction ended, for metrics. */
export interface TransactionEnd {
  committed: boolean;
  /** The records it carried. */
  records: readonly ProduceRecord[];
  /** From its first record sent to its commit or abort, in milliseconds. */
  ms: number;
}

/** Commits a worker's outputs and input offsets together, one transaction per commit. */
export class TransactionalCommitter {
  readonly #producer: RawProducer;
  readonly #options: TransactionalCommitterOptions;
  readonly #router: RecordRouter;
  readonly #library: Platformatic;
  /** The transaction the next commit uses (begun ahead: its first begin fences the predecessor). */
  #open: RawTransaction;
  /** Why the committer stopped for good, once a transaction failed. */
  #broken: unknown = null;

  private constructor(
    producer: RawProducer,
    open: RawTransaction,
    options: TransactionalCommitterOptions,
    router: RecordRouter,
    library: Platformatic,
  ) {
    this.#library = library;
    this.#producer = producer;
    this.#router = router;
    this.#open = open;
    this.#options = options;
  }

  /**
   * Creates the producer and takes the transactional id over (the
   * predecessor's open transaction is aborted, its producer fenced).
   */
  static async create(options: TransactionalCommitterOptions): Promise<TransactionalCommitter> {
    const library = await loadPlatformatic();
    const producer: RawProducer = new library.Producer({
      ...connectionOptions(options.kafka, `${options.clientIdSuffix}-tx`),
      idempotent: true,
      transactionalId: options.transactionalId,
      // A new producer of the id: InitProducerId with no producer id (-1), which takes the id
      // over from any earlier one. The library sends 0 and 0 otherwise, which the coordinator
      // refuses (PRODUCER_FENCED) once the id has a producer.
      producerId: -1n,
      producerEpoch: -1,
      autocreateTopics: false,
      // The library sends its one `timeout` as the transaction timeout (InitProducerId), and as
      // how long the broker may wait for a produce request's acknowledgements.
      timeout: TRANSACTION_TIMEOUT_MS,
      retries: TRANSACTION_RETRIES,
      retryDelay: transactionRetryDelay,
    });
    try {
      const open = await producer.beginTransaction();
      const router = new RecordRouter(producer, library);
      return new TransactionalCommitter(producer, open, options, router, library);
    } catch (error) {
      await producer.close().catch(() => {});
      throw error;
    }
  }

  /**
   * Why the broker would refuse `record` inside a transaction (which would
   * fail the whole commit, every time it is tried again): larger than one
   * record may be, a topic that does not exist, a partition the topic does
   * not have; null when it can go. Checked at `ctx.produce()`, so that the
   * call fails instead: at once when the partition counts last read decide
   * it, else once they are read again.
   */
  check(record: ProduceRecord): Error | null | Promise<Error | null> {
    const known = this.#router.knownCheck(record, UNDER);
    return known === undefined ? this.#router.check(record, UNDER) : known;
  }

  /**
   * Commits `offsets` and the records of the messages below them in one
   * transaction, under `member`'s generation. Rejects when it was not
   * committed; then, and ever after, the committer is broken.
   */
  async commit(offsets: readonly PartitionOffset[], member: GroupMember): Promise<void> {
    if (this.#broken !== null) throw this.#broken;
    const records = this.#options.take(offsets);
    const transaction = this.#open;
    const started = performance.now();
    try {
      for (const request of await this.#router.requests(records)) {
        await this.#router.checkRequest(request);
        await transaction.send({ messages: request.map((r) => r.message), acks: -1 });
      }
      await transaction.addConsumer({ groupId: member.group } as unknown as Consumer);
      await this.#commitOffsets(offsets, member);
      await transaction.commit();
    } catch (error) {
      this.#broken = error;
      const ids = errorIds(error);
      this.#options.logger.error("transaction failed; aborting it", {
        records: records.length,
        ...errorFields(error),
        ...(ids.length === 0 ? {} : { kafkaErrors: [...new Set(ids)] }),
      });
      await transaction.abort().catch(() => {});
      this.#options.ended?.({ committed: false, records, ms: performance.now() - started });
      throw error;
    }
    this.#options.ended?.({ committed: true, records, ms: performance.now() - started });
    this.#options.logger.debug("transaction committed", {
      records: records.length,
      partitions: offsets.length,
      ms: Math.round(performance.now() - started),
    });
    try {
      this.#open = await this.#producer.beginTransaction();
    } catch (error) {
      this.#broken = error;
      throw error;
    }
  }

  /** Aborts the open transaction (it carries nothing yet) and closes the producer. */
  async close(): Promise<void> {
    if (!this.#open.completed) await this.#open.abort().catch(() => {});
    await this.#producer.close().catch(() => {});
  }

  /**
   * The offsets of `offsets` in the transaction, as `member`. Under the
   * consumer protocol the member's epoch is read right before they are sent;
   * refused as stale (the member took an assignment in meanwhile, which
   * bumped its epoch), they are sent again under the new epoch, in the same
   * transaction, as long as the member did not lose its partitions: its
   * outputs are still uncommitted and the offsets are its own.
   */
  async #commitOffsets(offsets: readonly PartitionOffset[], member: GroupMember): Promise<void> {
    for (let attempt = 1;; attempt++) {
      // Null (lost) is not the absent reader: no fallback to the generation the commit began with.
      const generation = member.epoch === undefined ? member.generation : member.epoch();
      if (generation === null) throw lostPartitions(member.group);
      try {
        return await this.#sendOffsets(offsets, member, generation);
      } catch (error) {
        const stale = errorIds(error).some((id) => STALE_EPOCH.has(id));
        if (member.epoch === undefined || !stale || attempt >= STALE_EPOCH_RETRIES) throw error;
        const moved = await epochMoved(member.epoch, generation);
        if (moved === null) throw lostPartitions(member.group, { cause: error });
        if (!moved) throw error;
        this.#options.logger.debug(
          "offsets refused under a stale member epoch; sending them again",
          {
            epoch: generation,
            attempt,
          },
        );
      }
    }
  }

  /**
   * One TxnOffsetCommit for every partition of `offsets`, to the group
   * coordinator, as `member` under `generation` (KIP-447: its generation or
   * epoch, member id and instance id), each offset with its commit
   * metadata. Without membership (generation -1) it names
   * {@linkcode NO_MEMBER_ID}; refused for good, it rejects with a
   * `CommitRejectedError`.
   */
  async #sendOffsets(
    offsets: readonly PartitionOffset[],
    member: GroupMember,
    generation: number,
  ): Promise<void> {
    const producer = this.#producer;
    const connection = await nodeConnection(producer, this.#library, member.coordinator);
    const withoutMembership = generation < 0;
    await callApi(producer, this.#library, connection, "TxnOffsetCommit", (version) => {
      if (version < TXN_OFFSET_COMMIT_MEMBER_VERSION) {
        throw new Error(
          `Cannot commit offsets in a transaction: the broker speaks TxnOffsetCommit up to version ${version}, ` +
            `and the group's generation needs version ${TXN_OFFSET_COMMIT_MEMBER_VERSION} (Kafka 2.5 or later)`,
        );
      }
      return [
        this.#options.transactionalId,
        member.group,
        producer.producerId,
        producer.producerEpoch,
        generation,
        withoutMembership ? NO_MEMBER_ID : member.memberId,
        member.instanceId,
        [{
          name: this.#options.topic,
          partitions: offsets.map(({ partition, offset, metadata }) => ({
            partitionIndex: partition,
            committedOffset: BigInt(offset),
            committedLeaderEpoch: -1,
            committedMetadata: metadata ?? null,
          })),
        }],
      ];
    }).catch((error: unknown) => {
      throw commitRejection(errorIds(error), {
        group: member.group,
        withoutMembership,
        cause: error,
      }) ??
        error;
    });
  }
}

/**
 * Whether the member's epoch moved on from `refused` within
 * {@linkcode STALE_EPOCH_WAIT_MS} (the coordinator bumps it as it answers the
 * member's heartbeat, so the new one is on its way); null when the member
 * lost its partitions meanwhile.
 */
async function epochMoved(epoch: () => number | null, refused: number): Promise<boolean | null> {
  const deadline = Date.now() + STALE_EPOCH_WAIT_MS;
  for (;;) {
    const now = epoch();
    if (now === null) return null;
    if (now !== refused) return true;
    if (Date.now() >= deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, STALE_EPOCH_POLL_MS));
  }
}

function lostPartitions(group: string, options?: ErrorOptions): Error {
  return new Error(
    `Cannot commit offsets for group "${group}" in the transaction: the member lost its ` +
      "partitions (the group fenced it) while the transaction was sent",
    options,
  );
}

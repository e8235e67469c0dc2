/**
 * A worker's one producer on the platformatic engine (see
 * ../record_producer.ts): the library's idempotent producer, acks all.
 *
 * One request is in flight at a time. Everything sent while it is goes in
 * the next one, across topics and partitions, in the order sent (cut at
 * 512 KiB per partition): a handler that awaits each produce writes in its
 * own order, and many calls producing at once share requests instead of
 * waiting one round trip each.
 *
 * The records of one flush share one promise, which resolves once all of
 * them were acknowledged: a record costs no promise of its own. Only a
 * record that may be refused on its own gets one: one for a topic whose
 * partition count was not read in the last few seconds (partition_counts.ts),
 * or for a partition beyond it; it is checked against fresh metadata before
 * it is sent.
 *
 * A failed request (after the library's own retries, which the broker
 * recognises as repeats) fails every record of its flush not yet
 * acknowledged, and the producer is replaced by a new one (a new producer
 * id) for the next records: sequence numbers of a request whose outcome is
 * unknown never hold the next ones back. The calls that produced them are
 * tried again, so what the broker had written is written again
 * (at-least-once). A record the broker refuses (too large, keyless on a
 * compacted topic, a topic the worker may not write) thus fails the calls
 * that shared its flush too; a record the worker can tell is wrong (its
 * topic or partition does not exist) fails alone.
 *
 * @module
 */
import type { KafkaConfig } from "../../config/types.ts";
import { errorFields } from "../../log.ts";
import type { ProduceRecord } from "../../produce_record.ts";
import {
  CLOSE_FLUSH_MS,
  closedError,
  flushesEnded,
  type RecordProducer,
  type RecordProducerOptions,
} from "../record_producer.ts";
import { partitionRequests } from "../request_bytes.ts";
import { connectionOptions } from "./client.ts";
import { errorIds } from "./error_ids.ts";
import { loadPlatformatic } from "./library.ts";
import { PartitionCounts } from "./partition_counts.ts";
import {
  libraryMessage,
  type RawMessage,
  type RawProducer,
  RecordRouter,
  refusal,
  type RoutedRecord,
} from "./record_routing.ts";

/**
 * How long the broker may take to acknowledge a request, and a request may
 * wait for its answer, in milliseconds (kafkajs's request timeout).
 */
const REQUEST_TIMEOUT_MS = 30_000;

type Record = ProduceRecord & { timestamp?: string };

/** A record of a shared flush, made into the library's message as it was sent. */
interface Entry {
  record: Record;
  message: RawMessage;
  /** The topic's partition count known when it was sent (its partition is within it). */
  count: number;
}

/** Records that share one promise: those sent between two flushes that passed the known counts. */
interface Shared {
  entries: Entry[];
  done: Promise<void>;
  resolve(): void;
  reject(error: unknown): void;
}

/** A record with a promise of its own: it may be refused on its own. */
interface Own {
  record: Record;
  message: RawMessage;
  resolve(): void;
  reject(error: unknown): void;
}

interface Client {
  producer: RawProducer;
  router: RecordRouter;
}

function shared(): Shared {
  let resolve!: () => void;
  let reject!: (error: unknown) => void;
  const done = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { entries: [], done, resolve, reject };
}

/**
 * Creates the producer of a worker on the platformatic engine, connected
 * on first use or by `connect()`; a failed connect is forgotten, so the
 * next record connects again.
 *
 * @example
 * ```ts ignore
 * const producer = createPlatformaticProducer(kafka, { clientIdSuffix: "audit-0", logger });
 * await producer.send({ topic: "orders.enriched", key: "k", value: "v" });
 * ```
 */
export function createPlatformaticProducer(
  kafka: KafkaConfig,
  { clientIdSuffix, logger, settled }: RecordProducerOptions,
): RecordProducer {
  let current: Promise<Client> | null = null;
  let connected: Promise<void> | null = null;
  /** Partition counts of the output topics as last read, kept by each router in turn. */
  const counts = new PartitionCounts();
  let next: Shared | null = null;
  let own: Own[] = [];
  /** The flush under way: close() lets it end. */
  let flushing: Promise<void> | null = null;
  /** Closed with the worker: a record sent after that fails instead of opening a new producer. */
  let closed = false;

  const client = (): Promise<Client> => {
    if (closed && current === null) return Promise.reject(closedError());
    return current ??= loadPlatformatic().then((library) => {
      const producer: RawProducer = new library.Producer({
        ...connectionOptions(kafka, `${clientIdSuffix}-out`),
        idempotent: true,
        autocreateTopics: false,
        timeout: REQUEST_TIMEOUT_MS,
      });
      return { producer, router: new RecordRouter(producer, library, counts) };
    }).catch((error) => {
      current = null;
      throw error;
    });
  };

  const connect = (): Promise<void> =>
    connected ??= client()
      .then(({ producer }) => producer.initIdempotentProducer({}))
      .then(() => {}, (error) => {
        connected = null;
        throw error;
      });

  /** Closes the producer after a failed request; the next record creates a new one. */
  const replace = () => {
    const old = current;
    current = null;
    connected = null;
    void old?.then(({ producer }) => producer.close(true)).catch(() => {});
  };

  const settle = (entries: readonly Entry[], failed: boolean) => {
    if (settled !== undefined) { for (const { record } of entries) settled(record, failed); }
  };
  const failOwn = (one: Own, error: unknown) => {
    settled?.(one.record, true);
    one.reject(error);
  };
  const failShared = (batch: Shared | null, error: unknown) => {
    if (batch === null) return;
    settle(batch.entries, true);
    batch.reject(error);
  };

  /**
   * Sends `batch` and `alone` (the records with their own promises, sent
   * first) in requests, one after the other; a failure fails what is left.
   */
  const sendFlush = async (batch: Shared | null, alone: Own[]) => {
    const routed: RoutedRecord[] = [];
    /** The record of each routed one that has its own promise, at the same index. */
    const owners: Array<Own | null> = [];
    let producer: RawProducer;
    let router: RecordRouter;
    try {
      ({ producer, router } = await client());
    } catch (error) {
      for (const one of alone) failOwn(one, error);
      failShared(batch, error);
      return;
    }
    if (alone.length > 0) {
      // Read now, once: a missing topic fails its records alone, in one round trip.
      const topics = new Set(alone.map((o) => o.record.topic));
      const fresh = await router.partitionCounts(topics, { fresh: true });
      for (const one of alone) {
        const count = fresh.get(one.record.topic)!;
        const refused = refusal(one.record, count);
        if (refused !== null) failOwn(one, refused);
        else {
          routed.push(router.route(one.record, count as number, one.message));
          owners.push(one);
        }
      }
    }
    for (const { record, message, count } of batch?.entries ?? []) {
      routed.push(router.route(record, count, message));
      owners.push(null);
    }
    // Requests are consecutive runs of `routed`.
    let first = 0;
    for (const request of partitionRequests(routed)) {
      const end = first + request.length;
      try {
        await router.checkRequest(request);
        await producer.send({ messages: request.map((r) => r.message), acks: -1 });
      } catch (thrown) {
        const error = produceFailure(thrown, request);
        logger.debug("a produce request failed; a new producer sends the next records", {
          records: request.length,
          ...errorFields(error),
        });
        replace();
        // Read again before the next records to them go: the topic may be gone or changed.
        for (const r of request) counts.delete(r.topic);
        for (let i = first; i < owners.length; i++) {
          const one = owners[i];
          if (one) failOwn(one, error);
        }
        failShared(batch, error);
        return;
      }
      for (let i = first; i < end; i++) {
        const one = owners[i];
        if (!one) continue;
        settled?.(one.record, false);
        one.resolve();
      }
      first = end;
    }
    if (batch !== null) {
      settle(batch.entries, false);
      batch.resolve();
    }
  };

  /** Sends what is queued, a flush at a time, until nothing is left. */
  const flush = async () => {
    try {
      // Records sent in the same turn as the first one join its request.
      await Promise.resolve();
      while (next !== null || own.length > 0) {
        const batch = next;
        const alone = own;
        next = null;
        own = [];
        await sendFlush(batch, alone);
      }
    } finally {
      flushing = null;
    }
  };

  return {
    send(record) {
      if (closed) return Promise.reject(closedError());
      let message: RawMessage;
      try {
        message = libraryMessage(record);
      } catch (error) {
        return Promise.reject(error);
      }
      const count = counts.get(record.topic);
      if (count !== undefined && (record.partition === undefined || record.partition < count)) {
        (next ??= shared()).entries.push({ record, message, count });
        flushing ??= flush();
        return next.done;
      }
      return new Promise<void>((resolve, reject) => {
        own.push({ record, message, resolve, reject });
        flushing ??= flush();
      });
    },
    connect,
    async close(flushMs = CLOSE_FLUSH_MS) {
      closed = true;
      // What was sent before goes out first, for a while, and a connect under way ends: a close
      // in its middle would leave its sockets open.
      await flushesEnded([flushing], flushMs);
      await connected?.catch(() => {});
      const closing = current;
      current = null;
      if (closing !== null) await (await closing).producer.close();
    },
  };
}

/** The messages inside a library error (nested in MultipleErrors), the innermost first. */
function innerMessages(error: unknown): string[] {
  if (typeof error !== "object" || error === null) return [String(error)];
  const e = error as { message?: unknown; errors?: unknown };
  const inner = Array.isArray(e.errors) ? e.errors.flatMap(innerMessages) : [];
  return inner.length > 0 ? inner : [String(e.message ?? error)];
}

/**
 * The error the records of a failed request get: which topics, and what
 * the broker or the connection said (the library's own error says only
 * that producing failed).
 */
function produceFailure(error: unknown, request: readonly RoutedRecord[]): Error {
  const topics = [...new Set(request.map((r) => JSON.stringify(r.topic)))].join(", ");
  const ids = [...new Set(errorIds(error))];
  const why = ids.length > 0 ? ids.join(", ") : [...new Set(innerMessages(error))].join("; ");
  return new Error(
    `Cannot produce ${request.length} record(s) to topic ${topics}: ${why}`,
    { cause: error },
  );
}

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
 * A failed request rejects its records and those that were to follow it in
 * the same turn, and the producer is replaced by a new one (a new producer
 * id) for the next records: sequence numbers of a request whose outcome is
 * unknown never hold the next ones back.
 *
 * @module
 */
import type { KafkaConfig } from "../../config/types.ts";
import { errorFields } from "../../log.ts";
import type { ProduceRecord } from "../../produce_record.ts";
import type { RecordProducer, RecordProducerOptions } from "../record_producer.ts";
import { partitionRequests } from "../request_bytes.ts";
import { connectionOptions } from "./client.ts";
import { loadPlatformatic } from "./library.ts";
import { type RawProducer, RecordRouter, refusal, type RoutedRecord } from "./record_routing.ts";

/**
 * How long the broker may take to acknowledge a request, and a request may
 * wait for its answer, in milliseconds (kafkajs's request timeout).
 */
const REQUEST_TIMEOUT_MS = 30_000;

type Record = ProduceRecord & { timestamp?: string };

interface Queued {
  record: Record;
  resolve(): void;
  reject(error: unknown): void;
}

interface Client {
  producer: RawProducer;
  router: RecordRouter;
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
  { clientIdSuffix, logger }: RecordProducerOptions,
): RecordProducer {
  let current: Promise<Client> | null = null;
  let connected: Promise<void> | null = null;
  const queue: Queued[] = [];
  let flushing = false;

  const client = (): Promise<Client> =>
    current ??= loadPlatformatic().then((library) => {
      const producer: RawProducer = new library.Producer({
        ...connectionOptions(kafka, `${clientIdSuffix}-out`),
        idempotent: true,
        autocreateTopics: false,
        timeout: REQUEST_TIMEOUT_MS,
      });
      return { producer, router: new RecordRouter(producer, library) };
    }).catch((error) => {
      current = null;
      throw error;
    });

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

  /** Sends `batch` in requests, one after the other; a failure rejects what is left. */
  const sendBatch = async (batch: Queued[]) => {
    let routed: Array<RoutedRecord & { queued: Queued }>;
    let producer: RawProducer;
    try {
      const { producer: p, router } = await client();
      producer = p;
      const counts = await router.partitionCounts(new Set(batch.map((q) => q.record.topic)));
      routed = [];
      for (const queued of batch) {
        const count = counts.get(queued.record.topic)!;
        const refused = refusal(queued.record, count);
        if (refused !== null) queued.reject(refused);
        else routed.push({ ...router.route(queued.record, count as number), queued });
      }
    } catch (error) {
      for (const queued of batch) queued.reject(error);
      return;
    }
    const requests = partitionRequests(routed);
    for (const [i, request] of requests.entries()) {
      try {
        await producer.send({ messages: request.map((r) => r.message), acks: -1 });
      } catch (error) {
        logger.debug("a produce request failed; a new producer sends the next records", {
          records: request.length,
          ...errorFields(error),
        });
        replace();
        for (const rest of requests.slice(i)) for (const r of rest) r.queued.reject(error);
        return;
      }
      for (const r of request) r.queued.resolve();
    }
  };

  /** Sends what is queued, a batch at a time, until nothing is left. */
  const flush = async () => {
    flushing = true;
    try {
      // Records sent in the same turn as the first one join its request.
      await Promise.resolve();
      while (queue.length > 0) await sendBatch(queue.splice(0, queue.length));
    } finally {
      flushing = false;
    }
  };

  return {
    send(record) {
      return new Promise<void>((resolve, reject) => {
        queue.push({ record, resolve, reject });
        if (!flushing) void flush();
      });
    },
    connect,
    async close() {
      // A connect under way ends first: a close in its middle would leave its sockets open.
      await connected?.catch(() => {});
      const closing = current;
      current = null;
      if (closing !== null) await (await closing).producer.close();
    },
  };
}

/**
 * The schema of consumers.yaml: the single source of the configuration's
 * TypeScript types (see `types.ts`), its runtime validation, its defaults and
 * the published JSON Schema (see `json_schema.ts`).
 *
 * Error messages given here are "expected …" phrases; the loader appends
 * what was found.
 *
 * @module
 */
import { z } from "zod";
import { parseHostPort } from "./host_port.ts";

/** Default Kafka bootstrap address when `kafka.brokers` is omitted. */
export const DEFAULT_BROKERS = ["127.0.0.1:9092"];
/** Default address of the status server. */
export const DEFAULT_LISTEN = "127.0.0.1:9464";

const HOST_PORT = '"host:port"';

function integer(min: number, fallback: number, description: string) {
  return z.number().int().min(min).default(fallback).describe(description);
}

// ---------------------------------------------------------------- kafka --

/** `kafka.brokers`: a list of `host:port`, or one comma-separated string. */
export const BrokersSchema = z
  .union([z.string(), z.array(z.string())], {
    error: `expected a list of ${HOST_PORT} strings or one comma-separated string`,
  })
  .transform((value, ctx) => {
    const brokers: string[] = [];
    const items = Array.isArray(value) ? value : [value];
    items.forEach((item, index) => {
      const path = Array.isArray(value) ? [index] : [];
      for (const part of item.split(",")) {
        const address = part.trim();
        const parsed = parseHostPort(address);
        if (typeof parsed === "string") {
          const where = item.includes(",") ? ` in ${JSON.stringify(item)}` : "";
          const found = address === "" ? "an empty entry" : JSON.stringify(address);
          ctx.addIssue({
            code: "custom",
            path,
            input: item,
            message: `expected a broker address ${HOST_PORT}, found ${found}${where}` +
              (address === "" ? "" : `: ${parsed}`),
          });
        } else {
          brokers.push(address);
        }
      }
    });
    if (items.length === 0) {
      ctx.addIssue({
        code: "custom",
        input: value,
        message: "expected at least one broker address, found an empty list",
      });
    }
    return brokers;
  })
  .describe(
    `Bootstrap brokers: a list of ${HOST_PORT}, or one comma-separated string ` +
      `(each list item may itself be comma-separated, e.g. from \${KAFKA_BROKERS}).`,
  );

/** `kafka.ssl`: `false`, `true` (TLS with the system's CAs) or the TLS options. */
export const SslSchema = z
  .union([
    z.boolean(),
    z.strictObject({
      ca: z.string().optional().describe("PEM text of the CA certificate(s) to trust."),
      cert: z.string().optional().describe("PEM text of the client certificate (mutual TLS)."),
      key: z.string().optional().describe("PEM text of the client private key (a secret)."),
      rejectUnauthorized: z.boolean().default(true).describe(
        "Reject brokers whose certificate does not verify.",
      ),
    }),
  ], { error: "expected false, true or an object with ca, cert, key, rejectUnauthorized" })
  .transform((value) => value === true ? { rejectUnauthorized: true } : value)
  .prefault(false)
  .describe(
    "TLS for the broker connections: false, true (verified against the system's CAs), or " +
      "{ ca, cert, key, rejectUnauthorized }.",
  );

/** `kafka.sasl`: `null` or the SASL credentials. */
export const SaslSchema = z
  .union([
    z.null(),
    z.strictObject({
      mechanism: z.enum(["plain", "scram-sha-256", "scram-sha-512"]).describe(
        "SASL mechanism.",
      ),
      username: z.string().min(1).describe("SASL user name."),
      password: z.string().min(1).describe("SASL password (a secret; use ${VAR})."),
    }),
  ], { error: "expected null or an object with mechanism, username, password" })
  .default(null)
  .describe("SASL authentication: null, or { mechanism, username, password }.");

/** `kafka.engine` and a consumer's `engine`: the Kafka client library a worker reads with. */
export const EngineSchema = z.enum(["kafkajs", "platformatic"]).describe(
  "The Kafka client a consumer reads with: kafkajs (default) or platformatic (@platformatic/kafka).",
);

/** `kafka.groupProtocol` and a consumer's `groupProtocol`: how a balanced consumer's group assigns partitions. */
export const GroupProtocolSchema = z.enum(["classic", "consumer"]).describe(
  "The group protocol of balanced mode: classic (JoinGroup/SyncGroup; every member stops while " +
    "the group rebalances) or consumer (KIP-848, Kafka 4: the broker assigns, and only the " +
    "partitions that move stop; needs engine: platformatic).",
);

/** The longest `kafka.instanceId`: `<instanceId>.<consumer>.<replica>` stays within Kafka's 249 characters. */
export const MAX_INSTANCE_ID = 128;
const INSTANCE_ID = new RegExp(`^[A-Za-z0-9._-]{1,${MAX_INSTANCE_ID}}$`);

/** `kafka.instanceId`: static membership; empty turns it off. */
export const InstanceIdSchema = z
  .string()
  .transform((value, ctx) => {
    const id = value.trim();
    if (id !== "" && !INSTANCE_ID.test(id)) {
      ctx.addIssue({
        code: "custom",
        input: value,
        message: `expected an instance id of 1-${MAX_INSTANCE_ID} letters, digits, ".", "_" or ` +
          `"-" (or "" for none), found ${JSON.stringify(value)}`,
      });
    }
    return id;
  })
  .prefault("")
  .describe(
    "Static membership (KIP-345): a name stable across restarts of this daemon, e.g. " +
      "${HOSTNAME:-} or a StatefulSet pod name. Each worker joins with group.instance.id " +
      "<instanceId>.<consumer>.<replica>; on SIGTERM it commits and stays in the group, so a " +
      "restart within the session timeout gets the same partitions with no rebalance. Empty: off. " +
      "Needs engine: platformatic.",
  );

/** The `kafka:` section. */
export const KafkaSchema = z
  .strictObject({
    brokers: BrokersSchema.prefault(DEFAULT_BROKERS),
    clientId: z.string().min(1).default("consumerd").describe(
      "Kafka client id; each worker appends -<consumer>-<replica>.",
    ),
    ssl: SslSchema,
    sasl: SaslSchema,
    engine: EngineSchema.default("kafkajs"),
    groupProtocol: GroupProtocolSchema.default("classic"),
    groupRemoteAssignor: z.enum(["uniform", "range"]).nullable().default(null).describe(
      "groupProtocol consumer: the broker's assignor to ask for (uniform or range); null: the " +
        "broker's default (the first of group.consumer.assignors, uniform unless changed).",
    ),
    instanceId: InstanceIdSchema,
    sessionTimeoutMs: z.number().int().min(6000).max(1_800_000).default(30000).describe(
      "groupProtocol classic: how long the group waits for a silent member (a SIGKILLed daemon, " +
        "or a static member restarting) before it rebalances its partitions away; within the " +
        "broker's group.min.session.timeout.ms (6000) and group.max.session.timeout.ms. " +
        "groupProtocol consumer: the broker's group.consumer.session.timeout.ms (45000) governs " +
        "instead, and this is not sent.",
    ),
  })
  .prefault({})
  .describe("How the daemon reaches Kafka.");

// ----------------------------------------------------- http and shutdown --

/** `http.listen`: `"host:port"` (port 0 picks a free port) or `false`. */
export const ListenSchema = z
  .union([z.literal(false), z.string()], { error: `expected ${HOST_PORT} or false` })
  .transform((value, ctx) => {
    if (value === false) return false;
    const parsed = parseHostPort(value.trim(), { allowPortZero: true });
    if (typeof parsed !== "string") return parsed;
    ctx.addIssue({
      code: "custom",
      input: value,
      message: `expected ${HOST_PORT} or false, found ${JSON.stringify(value)}: ${parsed}`,
    });
    return z.NEVER;
  })
  .prefault(DEFAULT_LISTEN)
  .describe(
    `Address of the status server (health, status, metrics, dashboard), as ${HOST_PORT} ` +
      "(port 0 picks a free port); false disables it.",
  );

/** `http.token`: the bearer token the status server asks for; empty means none. */
export const TokenSchema = z
  .string()
  .default("")
  .describe(
    "Bearer token for every status-server request except /healthz and /readyz; " +
      "required when listen is not a loopback address. A secret: use ${VAR}. Empty: no token.",
  );

const HOST_NAME = /^(?=.{1,253}$)[a-z0-9_]([a-z0-9_.-]*[a-z0-9_])?$/;

/**
 * `http.allowedHosts`: further names a request's `Host` may give, besides IP
 * addresses, `localhost` and the listen host; lowercased, without a trailing dot.
 */
export const AllowedHostsSchema = z
  .array(z.string())
  .transform((names, ctx) =>
    names.map((name, index) => {
      const host = name.trim().toLowerCase().replace(/\.$/, "");
      if (!HOST_NAME.test(host)) {
        ctx.addIssue({
          code: "custom",
          path: [index],
          input: name,
          message: "expected a host name without scheme, port or wildcard, such as " +
            `consumerd.example.com, found ${JSON.stringify(name)}`,
        });
      }
      return host;
    })
  )
  .prefault([])
  .describe(
    "Names the status server is reached by (a Service, an ingress, a proxy that passes Host on), " +
      "besides IP addresses, localhost and the listen host: a request naming another Host is " +
      "refused (421), so that no web page reaches the server through DNS rebinding.",
  );

/** The `http:` section. */
export const HttpSchema = z
  .strictObject({ listen: ListenSchema, token: TokenSchema, allowedHosts: AllowedHostsSchema })
  .prefault({})
  .describe("The status server.");

/** The `shutdown:` section. */
export const ShutdownSchema = z
  .strictObject({
    gracePeriodMs: integer(
      0,
      30000,
      "How long in-flight handlers may take to finish on shutdown before workers are terminated.",
    ),
  })
  .prefault({})
  .describe("Shutdown (SIGTERM, SIGINT) behaviour.");

/** The `reload:` section: how the running daemon follows edits. */
export const ReloadSchema = z
  .strictObject({
    handlers: z.boolean().default(true).describe(
      "Watch the handler modules (and the local modules they import) too: editing one restarts " +
        "only the consumers that use it; " +
        "false: a handler edit waits for its consumer's next restart.",
    ),
    debounceMs: integer(
      0,
      300,
      "Changes on disk closer together than this are one reload (editors and ConfigMap swaps write in bursts).",
    ),
  })
  .prefault({})
  .describe("Hot reload: file changes, SIGHUP and POST /reload apply only the difference.");

// ------------------------------------------------------------- consumers --

const TOPIC_NAME = /^(?!\.{1,2}$)[A-Za-z0-9._-]{1,249}$/;
const TOPIC_EXPECTED = 'expected a Kafka topic name (1-249 of A-Z a-z 0-9 . _ -, not "." or "..")';

/** The most handler calls a worker may have in flight (`concurrency`). */
export const MAX_CONCURRENCY = 10_000;
/** The most partitions a worker handles at once with `ordering: partition`. */
export const MAX_PARTITION_CONCURRENCY = 256;
/** `concurrency` when it is not set, with `ordering: key` or `none`. */
export const DEFAULT_KEYED_CONCURRENCY = 16;

/** Consumer names: unique, used in logs, metrics and status. */
export const ConsumerNameSchema = z
  .string()
  .regex(/^[a-z0-9._-]{1,100}$/, {
    error: 'expected a name of 1-100 lowercase letters, digits, ".", "_" or "-"',
  })
  .describe("Unique name of the consumer: [a-z0-9._-]; used in logs, metrics and status.");

const TopicSchema = z.string().regex(TOPIC_NAME, { error: TOPIC_EXPECTED });
/**
 * `group`: Kafka takes any text, but whitespace at either end is almost
 * always a stray space or newline (from a `${VAR}` or a secret file) that
 * would silently make a new group, with no committed offsets.
 */
const GroupSchema = z.string().min(1).max(255).regex(/^\S(?:[\s\S]*\S)?$/, {
  error: (issue) =>
    `expected a group id without whitespace at either end, found ${JSON.stringify(issue.input)}`,
}).describe(
  "Consumer group: membership (balanced mode) and offset storage (both modes). Whitespace at " +
    "either end is refused: it is almost always a stray space or newline from a variable, and " +
    "would make a new group with no committed offsets.",
);
const HandlerSchema = z.string().min(1).describe(
  "Handler module, relative to this file; it exports a default function or handleBatch.",
);

/** A list refinement: each item at most once, a repeat reported at its index. */
function eachOnce<T>(noun: string, show: (item: T) => string) {
  return (items: T[], ctx: z.RefinementCtx<T[]>) => {
    const seen = new Set<T>();
    items.forEach((item, index) => {
      if (seen.has(item)) {
        ctx.addIssue({
          code: "custom",
          path: [index],
          input: item,
          message: `expected each ${noun} once, found ${show(item)} twice`,
        });
      }
      seen.add(item);
    });
  };
}

const PartitionsSchema = z
  .array(z.number().int().min(0).max(2147483647))
  .min(1)
  .superRefine(eachOnce("partition", String));

const OutputsSchema = z
  .array(TopicSchema)
  .superRefine(eachOnce("output topic", JSON.stringify))
  .default([])
  .describe(
    "Topics the handler may produce to with ctx.produce(); producing to any other is an error. " +
      "They must exist (the daemon creates no topics).",
  );

const CommitSchema = z
  .strictObject({
    mode: z.enum(["auto", "manual"]).default("auto").describe(
      "auto: commit processed offsets every intervalMs, on revocation and on shutdown; " +
        "manual: only when the handler calls ctx.commit().",
    ),
    intervalMs: integer(
      1,
      5000,
      "Auto mode: the longest finished messages wait for a commit within a long batch " +
        "(every fetched batch commits when it ends).",
    ),
  })
  .prefault({})
  .describe("When processed offsets are committed.");

const FetchSchema = z
  .strictObject({
    maxBytesPerPartition: integer(1024, 1024 * 1024, "Most bytes one fetch returns per partition."),
    maxBytes: integer(1024, 10 * 1024 * 1024, "Most bytes one fetch returns in all."),
    maxWaitMs: integer(
      0,
      500,
      "How long the broker may wait for new records before it answers a fetch.",
    ),
  })
  .prefault({})
  .describe(
    "Fetch sizes: larger fetches raise throughput on large records and use more memory per worker.",
  );

const RetrySchema = z
  .strictObject({
    attempts: integer(
      0,
      3,
      "Handler calls per message in all, the first included (0 and 1: no retry).",
    ),
    backoffMs: integer(0, 200, "Delay before the first retry, in milliseconds."),
    maxBackoffMs: integer(
      0,
      30000,
      "Upper bound of the exponential retry delay (which has 20 % jitter); also the wait " +
        "before a paused partition's failed message is tried again.",
    ),
  })
  .prefault({})
  .describe("Retries of a handler that throws, with exponential backoff and jitter.");

const pathList = (what: string) => z.array(z.string().min(1)).default([]).describe(what);

const PermissionsSchema = z
  .strictObject({
    net: pathList("Extra hosts the handler may reach (host or host:port)."),
    read: pathList("Extra paths the handler may read, relative to this file."),
    write: pathList("Extra paths the handler may write, relative to this file."),
    env: pathList("Environment variables the handler may read."),
  })
  .prefault({})
  .describe(
    "What the handler may touch beyond its brokers and its own file (Deno permission lists; " +
      "on Bun, workers are not sandboxed).",
  );

const consumerFields = {
  name: ConsumerNameSchema,
  group: GroupSchema,
  topic: TopicSchema.describe("Topic to consume; it must exist (the daemon creates no topics)."),
  engine: EngineSchema.nullable().default(null).describe(
    "The Kafka client this consumer reads with; null: kafka.engine.",
  ),
  groupProtocol: GroupProtocolSchema.nullable().default(null).describe(
    "Balanced mode: this consumer's group protocol (classic or consumer); null: kafka.groupProtocol.",
  ),
  mode: z.enum(["balanced", "simple"]).default("balanced").describe(
    "balanced: group membership spreads partitions; simple: fixed partitions, no membership.",
  ),
  partitions: PartitionsSchema.nullable().default(null).describe(
    "Simple mode only: the partitions to read; default (null) is every partition of the topic.",
  ),
  autoOffsetReset: z
    .enum(["earliest", "latest", "EARLIEST", "LATEST"])
    .transform((value) => value === "EARLIEST" || value === "earliest" ? "earliest" : "latest")
    .prefault("earliest")
    .describe("Where to start without a usable committed offset: earliest or latest."),
  resetOffsetOnStart: z.boolean().default(false).describe(
    "Start from autoOffsetReset, ignoring committed offsets, for the partitions held when " +
      "this consumer's start settled.",
  ),
  handler: HandlerSchema,
  commit: CommitSchema,
  replicas: z.number().int().min(1).max(1024).default(1).describe(
    "Workers for this consumer inside this daemon (balanced mode, same group).",
  ),
  retry: RetrySchema,
  fetch: FetchSchema,
  deadLetterTopic: TopicSchema.nullable().default(null).describe(
    "Where a message goes after its retries are spent; null: the partition pauses instead.",
  ),
  outputs: OutputsSchema,
  delivery: z.enum(["at-least-once", "exactly-once"]).default("at-least-once").describe(
    "What ctx.produce() promises with the input offsets: at-least-once (an input is committed " +
      "only once every output its handler produced was acknowledged; a retry may produce again) " +
      "or exactly-once (outputs and input offsets commit in one Kafka transaction; engine " +
      "platformatic only; read outputs read_committed).",
  ),
  ordering: z.enum(["partition", "key", "none"]).default("partition").describe(
    "What must be handled one after the other, in offset order: partition (one call per " +
      "partition at a time), key (messages with the same key, per partition; different keys " +
      "run in parallel; each message without a key is on its own) or none (any message may run " +
      "in parallel).",
  ),
  concurrency: z.number().int().min(1).max(MAX_CONCURRENCY).optional().describe(
    "Handler calls in flight in one worker. ordering partition: partitions handled at once " +
      `(at most ${MAX_PARTITION_CONCURRENCY}); default 1. key and none: calls at once; default ` +
      `${DEFAULT_KEYED_CONCURRENCY}.`,
  ),
  maxBuffered: z.number().int().min(1).default(10_000).describe(
    "ordering key and none: messages fetched and not finished yet, per worker; at the bound the " +
      "worker stops fetching until calls finish. Memory: about maxBuffered × record size.",
  ),
  handlerTimeoutMs: z.number().int().min(100).default(300_000).describe(
    "A handler call running longer than this is stuck: its worker is restarted (the message is " +
      "not committed). The group membership is kept alive during handler calls up to this long.",
  ),
  startupTimeoutMs: z.number().int().min(100).default(60_000).describe(
    "How long importing the handler module and its setup() may take before the worker is " +
      "restarted.",
  ),
  permissions: PermissionsSchema,
  settings: z.unknown().default(() => ({})).describe(
    "Any YAML value, handed to the handler as ctx.settings (in setup() and every call): its " +
      "configuration without an environment grant; ${VAR} allowed. Merged with defaults key by " +
      "key. Never printed by check or status; a change restarts the consumer.",
  ),
};

/** The consumer fields that hold objects; `defaults:` is merged into these key by key. */
export const NESTED_CONSUMER_FIELDS: ReadonlySet<string> = new Set([
  "commit",
  "retry",
  "fetch",
  "permissions",
  "settings",
]);

/**
 * One consumer after `defaults:` was merged in: every required field present,
 * every default applied, and the rules that tie fields together checked.
 */
export const ConsumerSchema = z
  .strictObject(consumerFields)
  .superRefine((consumer, ctx) => {
    if (consumer.partitions !== null && consumer.mode !== "simple") {
      ctx.addIssue({
        code: "custom",
        path: ["partitions"],
        input: consumer.partitions,
        message: `partitions is only allowed in simple mode, found mode "${consumer.mode}" ` +
          "(in balanced mode the group assigns partitions)",
      });
    }
    if (consumer.replicas > 1 && consumer.mode !== "balanced") {
      ctx.addIssue({
        code: "custom",
        path: ["replicas"],
        input: consumer.replicas,
        message: `expected replicas: 1 in ${consumer.mode} mode, found ${consumer.replicas} ` +
          "(replicas > 1 needs mode: balanced; simple-mode replicas would read the same partitions)",
      });
    }
    if (consumer.retry.maxBackoffMs < consumer.retry.backoffMs) {
      ctx.addIssue({
        code: "custom",
        path: ["retry", "maxBackoffMs"],
        input: consumer.retry.maxBackoffMs,
        message: `expected maxBackoffMs >= backoffMs (${consumer.retry.backoffMs}), ` +
          `found ${consumer.retry.maxBackoffMs}`,
      });
    }
    if (
      consumer.ordering === "partition" && consumer.concurrency !== undefined &&
      consumer.concurrency > MAX_PARTITION_CONCURRENCY
    ) {
      ctx.addIssue({
        code: "custom",
        path: ["concurrency"],
        input: consumer.concurrency,
        message: `expected at most ${MAX_PARTITION_CONCURRENCY} with ordering: partition (one ` +
          `call per partition), found ${consumer.concurrency} (ordering key or none run more)`,
      });
    }
    const concurrency = effectiveConcurrency(consumer);
    if (consumer.ordering !== "partition" && consumer.maxBuffered < concurrency) {
      ctx.addIssue({
        code: "custom",
        path: ["maxBuffered"],
        input: consumer.maxBuffered,
        message: `expected maxBuffered >= concurrency (${concurrency}), found ` +
          `${consumer.maxBuffered} (fewer buffered messages than calls leave calls unused)`,
      });
    }
    if (consumer.deadLetterTopic === consumer.topic) {
      ctx.addIssue({
        code: "custom",
        path: ["deadLetterTopic"],
        input: consumer.deadLetterTopic,
        message: `expected a dead-letter topic other than the consumed topic, found ` +
          `"${consumer.deadLetterTopic}" (failed messages would be consumed again)`,
      });
    }
  })
  .transform((consumer) => ({ ...consumer, concurrency: effectiveConcurrency(consumer) }));

/**
 * A consumer's `concurrency`, its default filled in: 1 with `ordering:
 * partition`, {@linkcode DEFAULT_KEYED_CONCURRENCY} with `key` or `none`.
 *
 * @example
 * ```ts
 * effectiveConcurrency({ ordering: "key" }); // 16
 * effectiveConcurrency({ ordering: "partition", concurrency: 4 }); // 4
 * ```
 */
export function effectiveConcurrency(
  consumer: { ordering: "partition" | "key" | "none"; concurrency?: number | undefined },
): number {
  return consumer.concurrency ??
    (consumer.ordering === "partition" ? 1 : DEFAULT_KEYED_CONCURRENCY);
}

/**
 * A consumer as written in `consumers:`. Only `name` is required here: other
 * required fields may come from `defaults:` (checked by {@linkcode ConsumerSchema}).
 */
export const ConsumerEntrySchema = z
  .strictObject({
    ...consumerFields,
    group: GroupSchema.optional(),
    topic: TopicSchema.optional().describe(
      "Topic to consume; it must exist (the daemon creates no topics).",
    ),
    handler: HandlerSchema.optional(),
  })
  .describe("One consumer. Fields it omits come from defaults, then from the built-in defaults.");

/** The `defaults:` section: any consumer field except `name`. */
export const ConsumerDefaultsSchema = ConsumerEntrySchema
  .omit({ name: true })
  .describe(
    "Values for any consumer field (except name), applied where a consumer omits it; commit, " +
      "retry, fetch, permissions and settings merge key by key, other fields are replaced whole.",
  );

/** The whole consumers.yaml file, as written. */
export const ConfigFileSchema = z
  .strictObject({
    kafka: KafkaSchema,
    http: HttpSchema,
    shutdown: ShutdownSchema,
    reload: ReloadSchema,
    defaults: ConsumerDefaultsSchema.optional(),
    consumers: z.array(ConsumerEntrySchema).describe("The consumers this daemon runs."),
  })
  .meta({
    title: "consumerd consumers.yaml",
    description: "Consumer definitions for the consumerd Kafka consumer daemon.",
  });

/**
 * `ctx.produce()`: a handler writes to the topics its consumer's `outputs`
 * grant, and a call is not over until what it produced was acknowledged.
 *
 * {@linkcode producingHandler} wraps the handler: each call gets a context
 * whose `produce` remembers the records it sent, and the call ends (its
 * messages finished, committable) only once the handler returned and every
 * one of them was acknowledged. A failed produce fails the call, which is
 * then retried and dead-lettered as any failed call. A batch handler's
 * `ctx.ack(message)` takes effect once the records produced before it were
 * acknowledged. So an offset is never committed before its outputs are
 * written (at-least-once: a call that is retried may produce again).
 *
 * @module
 */
import { type ProduceRecord, recordBytes, shapeProblem } from "../produce_record.ts";
import type { ConfigSource } from "../protocol.ts";
import type { Message } from "../message.ts";
import type { Context } from "./context.ts";
import type { Handler } from "./handler.ts";
import { isThenable } from "./handler_calls.ts";
import type { TransactionBuffer } from "./transaction_buffer.ts";

/**
 * A record whose topic is not one of the consumer's `outputs`: the config's
 * doing, not the message's (so it is never dead-lettered; the partition
 * pauses until the config grants the topic).
 */
export class OutputNotAllowedError extends Error {
  override name = "OutputNotAllowedError";
  /** The topic asked for. */
  readonly topic: string;

  /** `field` names where the consumer's outputs are written, e.g. `consumers[0].outputs (consumers.yaml:9)`. */
  constructor(topic: string, outputs: readonly string[], field: string) {
    super(
      `Cannot produce to topic ${JSON.stringify(topic)}: it is not in ${field}` +
        (outputs.length === 0
          ? ", which lists no topic"
          : `, which lists ${outputs.map((o) => JSON.stringify(o)).join(", ")}`) +
        "; add it there to let the handler produce to it",
    );
    this.topic = topic;
  }
}

/** Options for {@linkcode Outputs}. */
export interface OutputsOptions {
  /** The consumer's `outputs`. */
  topics: readonly string[];
  /** Where they are written, as errors name it, e.g. `consumers[0].outputs (consumers.yaml:9)`. */
  field: string;
  /** Sends a checked record; resolves once the broker acknowledged it. */
  send(record: ProduceRecord): Promise<void>;
}

const ignore = () => {};
/** What `ctx.produce()` returns for a record checked at once and held (exactly-once). */
const HELD: Promise<void> = Promise.resolve();

/**
 * The consumer's outputs: checks each record against them and sends it.
 *
 * @example
 * ```ts
 * const outputs = new Outputs({ topics: ["enriched"], field: "consumers[0].outputs", send });
 * await outputs.produce({ topic: "enriched", value: "v" });
 * await outputs.produce({ topic: "other", value: "v" }); // rejects: OutputNotAllowedError
 * ```
 */
export class Outputs {
  readonly #options: OutputsOptions;
  readonly #topics: ReadonlySet<string>;

  constructor(options: OutputsOptions) {
    this.#options = options;
    this.#topics = new Set(options.topics);
  }

  /** Sends `record` when it is well formed and its topic is an output; else rejects. */
  produce(record: ProduceRecord): Promise<void> {
    const problem = this.problem(record);
    return problem === null ? this.#options.send(record) : Promise.reject(problem);
  }

  /** Why `record` cannot be produced (malformed, or its topic is not an output); null when it can. */
  problem(record: ProduceRecord): Error | null {
    if (typeof record !== "object" || record === null) {
      return new TypeError(`Cannot produce ${String(record)}: expected { topic, value, … }`);
    }
    const { topic, value, partition } = record;
    if (typeof topic !== "string") {
      return new TypeError(`Cannot produce a record whose topic is ${String(topic)}`);
    }
    if (!this.#topics.has(topic)) {
      return new OutputNotAllowedError(topic, this.#options.topics, this.#options.field);
    }
    if (value === undefined) {
      return new TypeError(
        `Cannot produce to topic "${topic}" a record without a value (null is a tombstone)`,
      );
    }
    const shape = shapeProblem(record);
    if (shape !== null) return new TypeError(`Cannot produce to topic "${topic}" as ${shape}`);
    if (partition !== undefined && (!Number.isInteger(partition) || partition < 0)) {
      return new RangeError(
        `Cannot produce to topic "${topic}" as partition must be an integer >= 0: ` +
          `current value is ${partition}`,
      );
    }
    return null;
  }
}

/** What one handler call produced, and the acks that wait for it. */
class CallOutputs {
  readonly #outputs: Outputs;
  readonly #sent: Promise<void>[] = [];
  readonly #acks: Promise<void>[] = [];
  #ended = false;

  constructor(outputs: Outputs) {
    this.#outputs = outputs;
  }

  /** `ctx` with this call's `produce` (and, for batch calls, its deferred `ack`). */
  context(ctx: Context, batch: boolean): Context {
    const produce = (record: ProduceRecord) => this.#produce(record);
    if (!batch) return { ...ctx, produce };
    return { ...ctx, produce, ack: (message: Message) => this.#ack(ctx, message) };
  }

  /**
   * What the wrapped handler returns: `result` itself when the call was
   * synchronous and produced nothing; else a promise that settles once the
   * handler's promise did and every record was acknowledged.
   */
  settle(result: unknown): unknown {
    if (!isThenable(result) && this.#sent.length === 0 && this.#acks.length === 0) {
      this.#ended = true;
      return result;
    }
    return this.#acknowledged(result);
  }

  /** The handler threw: its deferred acks settle first (none lands during the next attempt). */
  failed(error: unknown): unknown {
    if (this.#acks.length === 0) {
      this.#ended = true;
      throw error;
    }
    return Promise.allSettled(this.#acks).then(() => {
      this.#ended = true;
      throw error;
    });
  }

  async #acknowledged(result: unknown): Promise<void> {
    try {
      await result;
    } catch (error) {
      await this.failed(error);
    }
    try {
      // Records produced while waiting join the list: read its length anew.
      for (let i = 0; i < this.#sent.length; i++) await this.#sent[i];
      for (let i = 0; i < this.#acks.length; i++) await this.#acks[i];
    } finally {
      this.#ended = true;
    }
  }

  #produce(record: ProduceRecord): Promise<void> {
    if (this.#ended) {
      return Promise.reject(
        new Error(
          "Cannot produce after the handler call ended: await ctx.produce() before returning",
        ),
      );
    }
    const sent = this.#outputs.produce(record);
    // Records sent together may share one promise: it is remembered (and caught) once.
    if (this.#sent[this.#sent.length - 1] !== sent) {
      // Awaited by the call whether or not the handler awaits it: never an unhandled rejection.
      sent.catch(ignore);
      this.#sent.push(sent);
    }
    return sent;
  }

  #ack(ctx: Context, message: Message): void {
    if (this.#sent.length === 0) return ctx.ack(message);
    const acked = Promise.all(this.#sent).then(() => ctx.ack(message));
    acked.catch(ignore);
    this.#acks.push(acked);
  }
}

/**
 * `handler` with `ctx.produce()` tied to each call: see the module
 * documentation.
 *
 * @example
 * ```ts
 * const handler = producingHandler(handlerOf(module, path), outputs);
 * ```
 */
export function producingHandler(handler: Handler, outputs: Outputs): Handler {
  const batch = handler.kind === "batch";
  const wrap = <A>(fn: (arg: A, ctx: Context) => unknown) => (arg: A, ctx: Context): unknown => {
    const call = new CallOutputs(outputs);
    let result: unknown;
    try {
      result = fn(arg, call.context(ctx, batch));
    } catch (error) {
      return call.failed(error);
    }
    return call.settle(result);
  };
  return handler.kind === "batch"
    ? { kind: "batch", fn: wrap(handler.fn) }
    : { kind: "message", fn: wrap(handler.fn) };
}

/**
 * Why the broker would refuse a record inside a transaction (it is too large,
 * its topic or partition does not exist), or null: see
 * `TransactionalCommitter.check()`.
 */
export type RecordCheck = (record: ProduceRecord) => Error | null | Promise<Error | null>;

/** Options for {@linkcode transactionalHandler}. */
export interface TransactionalOptions {
  outputs: Outputs;
  /** Where a succeeded call's records wait for their commit. */
  buffer: TransactionBuffer;
  check: RecordCheck;
  /**
   * `commit.mode: manual`: the most bytes that may wait for `ctx.commit()`
   * (in `buffer` and in the calls under way), and where the mode is written,
   * as errors name it; null: no bound (auto mode commits on its own).
   */
  bound: { bytes: number; field: string } | null;
}

/** What one handler call produced under `delivery: exactly-once`: held until the call succeeds. */
class BufferedCallOutputs {
  readonly #options: TransactionalOptions;
  /** The reading of the call's partition when it began (see `TransactionBuffer.epoch()`). */
  readonly #epoch: number | undefined;
  #records: ProduceRecord[] = [];
  /** The bytes of `#records`. */
  #bytes = 0;
  /** The checks of records still under way: the call ends after them. */
  #checking: Promise<unknown>[] = [];
  /** The first record refused: the call fails with it, awaited or not. */
  #refused: Error | null = null;
  #ended = false;

  constructor(options: TransactionalOptions, partition: number | undefined) {
    this.#options = options;
    this.#epoch = partition === undefined ? undefined : options.buffer.epoch(partition);
  }

  context(ctx: Context, batch: boolean): Context {
    const produce = (record: ProduceRecord) => this.#produce(record);
    if (!batch) return { ...ctx, produce };
    // A batch call's records cannot be told apart by message: the batch finishes as a whole, when
    // the call succeeds, and a call that fails is tried again from its first message (its records
    // dropped), acks or not. An ack that finished part of it would commit records produced for
    // messages after it, which the retry produces again.
    return { ...ctx, produce, ack: () => {} };
  }

  /** The handler returned `result` for `last`, the last message of its call. */
  settle(result: unknown, last: Message | undefined): unknown {
    if (!isThenable(result) && (this.#checking.length === 0 || this.#refused !== null)) {
      return this.#succeeded(result, last);
    }
    return Promise.resolve(result).then(
      async (value) => {
        // Records produced while waiting join the list: read its length anew.
        for (let i = 0; i < this.#checking.length; i++) await this.#checking[i];
        return this.#succeeded(value, last);
      },
      (error) => this.failed(error),
    );
  }

  failed(error: unknown): never {
    this.#ended = true;
    this.#records = [];
    this.#bytes = 0;
    throw error;
  }

  #succeeded(result: unknown, last: Message | undefined): unknown {
    if (this.#refused !== null) this.failed(this.#refused);
    this.#ended = true;
    if (last !== undefined) this.#keep(last);
    return result;
  }

  #keep(message: Message): void {
    // A call that outlived its partition's reading (lost, given back, reset) adds nothing: the
    // partition's next reading handles its messages again.
    this.#options.buffer.add(message.partition, message.offset, this.#records, this.#epoch);
    this.#records = [];
    this.#bytes = 0;
  }

  #produce(record: ProduceRecord): Promise<void> {
    if (this.#ended) {
      return Promise.reject(
        new Error(
          "Cannot produce after the handler call ended: await ctx.produce() before returning",
        ),
      );
    }
    const problem = this.#options.outputs.problem(record) ?? this.#overBound(record);
    if (problem !== null) return this.#refuse(problem);
    // Held in the order produced; the check decides whether the call can succeed.
    this.#records.push(record);
    this.#bytes += recordBytes(record);
    const known = this.#options.check(record);
    if (!(known instanceof Promise)) return known === null ? HELD : this.#refuse(known);
    const checked = known.then((refused) => refused === null ? undefined : this.#refuse(refused));
    // Awaited by the call whether or not the handler awaits it: never an unhandled rejection.
    checked.catch(ignore);
    this.#checking.push(checked);
    return checked;
  }

  /** Why `record` cannot wait for `ctx.commit()` (it would pass the bound), or null. */
  #overBound(record: ProduceRecord): Error | null {
    const { bound, buffer } = this.#options;
    if (bound === null) return null;
    const waiting = buffer.bytes + this.#bytes;
    const bytes = recordBytes(record);
    if (waiting + bytes <= bound.bytes) return null;
    return new RangeError(
      `Cannot produce to topic ${JSON.stringify(record.topic)} a record of ${bytes} bytes under ` +
        `delivery: exactly-once with ${bound.field}: the outputs waiting for ctx.commit() ` +
        `(${waiting} bytes) would pass ${bound.bytes} bytes; call ctx.commit() more often, ` +
        "or let commit.mode: auto commit them",
    );
  }

  #refuse(problem: Error): Promise<never> {
    this.#refused ??= problem;
    const refused = Promise.reject(problem);
    // The call fails with it whether or not the handler awaits it: never an unhandled rejection.
    refused.catch(ignore);
    return refused;
  }
}

/**
 * `handler` with `ctx.produce()` under `delivery: exactly-once`: a call's
 * records are checked (`check`: what the broker would refuse inside the
 * transaction fails the call, not the commit; under `commit.mode: manual`,
 * so does a record that would pass `bound`) and held until it succeeds,
 * then wait in `buffer` for the commit whose transaction carries them with
 * their input offsets. `ctx.produce()` resolves once the record is checked
 * and held; a call that fails leaves nothing.
 *
 * @example
 * ```ts
 * const handler = transactionalHandler(handlerOf(module, path), { outputs, buffer, check, bound: null });
 * ```
 */
export function transactionalHandler(handler: Handler, options: TransactionalOptions): Handler {
  const batch = handler.kind === "batch";
  const wrap =
    <A>(fn: (arg: A, ctx: Context) => unknown, last: (arg: A) => Message | undefined) =>
    (arg: A, ctx: Context): unknown => {
      const call = new BufferedCallOutputs(options, last(arg)?.partition);
      let result: unknown;
      try {
        result = fn(arg, call.context(ctx, batch));
      } catch (error) {
        return call.failed(error);
      }
      return call.settle(result, last(arg));
    };
  return handler.kind === "batch"
    ? { kind: "batch", fn: wrap(handler.fn, (messages) => messages.at(-1)) }
    : { kind: "message", fn: wrap(handler.fn, (message) => message) };
}

/**
 * Where a consumer's `outputs` are written, as errors name it: its own or
 * `defaults:` list with its line, else where the field would go.
 *
 * @example
 * ```ts
 * outputsField("audit", source); // "consumers[0].outputs (consumers.yaml:9)"
 * outputsField("audit", undefined); // 'the outputs of consumer "audit"'
 * ```
 */
export function outputsField(consumer: string, source: ConfigSource | undefined): string {
  const place = source?.place;
  if (place === undefined) return `the outputs of consumer "${consumer}"`;
  const field = place.outputs ?? { path: `consumers[${place.index}].outputs`, line: place.line };
  return `${field.path} (${place.file}:${field.line})`;
}

/**
 * Where a consumer's commit mode is written, as errors name it: its entry's
 * `commit.mode` with the consumer's line, else the consumer's name.
 *
 * @example
 * ```ts
 * commitModeField("audit", source); // "commit.mode: manual (consumers[0].commit.mode, consumers.yaml:5)"
 * commitModeField("audit", undefined); // 'commit.mode: manual (consumer "audit")'
 * ```
 */
export function commitModeField(consumer: string, source: ConfigSource | undefined): string {
  const place = source?.place;
  const where = place === undefined
    ? `consumer "${consumer}"`
    : `consumers[${place.index}].commit.mode, ${place.file}:${place.line}`;
  return `commit.mode: manual (${where})`;
}

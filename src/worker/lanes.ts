/**
 * Lanes: what `ordering: key` and `none` must run one after the other.
 * Messages of a lane run one at a time, in the order they were queued;
 * different lanes run side by side. Which lane runs next is the one whose
 * waiting message was queued first: fair between keys and partitions, and
 * it lets each partition's oldest unfinished message — its commit point —
 * finish soonest. Pure bookkeeping; the dispatcher runs the calls.
 *
 * @module
 */

/**
 * The lane of a message: `key` → its partition and key bytes; `none`, or a
 * message without a key → a lane of its own (null).
 *
 * @example
 * ```ts
 * laneKey("key", new Uint8Array([0x61])); // "a"
 * laneKey("key", null); // null: a lane of its own
 * laneKey("none", new Uint8Array([0x61])); // null
 * ```
 */
export function laneKey(ordering: "key" | "none", key: Uint8Array | null): string | null {
  if (ordering === "none" || key === null) return null;
  // One character per byte: distinct keys never share a lane.
  let text = "";
  for (let i = 0; i < key.length; i += 4096) {
    text += String.fromCharCode(...key.subarray(i, i + 4096));
  }
  return text;
}

/** Where a lane stands. */
export type LaneState = "ready" | "running" | "held" | "done";

/** One lane: a partition's messages of one key (or one message). */
export class Lane<T> {
  readonly partition: number;
  /** The lane's key (see {@linkcode laneKey}); null: a lane of one message. */
  readonly key: string | null;
  state: LaneState = "ready";
  /** Failed calls of the message at the head, for the dispatcher's retries. */
  failures = 0;
  /** Items in `items[head..]`, their queue numbers in `seqs[head..]`. */
  items: T[] = [];
  seqs: number[] = [];
  head = 0;

  constructor(partition: number, key: string | null) {
    this.partition = partition;
    this.key = key;
  }

  /** The message that runs next (or runs now). */
  get first(): T {
    return this.items[this.head]!;
  }

  /** How many messages the lane holds, the running one included. */
  get size(): number {
    return this.items.length - this.head;
  }
}

/**
 * The lanes of one worker, and which of them may run a message now.
 *
 * @example
 * ```ts
 * const lanes = new Lanes<string>();
 * lanes.push(0, "a", "a-1");
 * lanes.push(0, "a", "a-2");
 * lanes.push(0, "b", "b-1");
 * const a = lanes.take()!; // a-1 runs; a-2 waits for it
 * const b = lanes.take()!; // b-1 runs beside it
 * lanes.take(); // null: nothing else may run
 * lanes.advance(a); // a-1 finished: a-2 is ready
 * lanes.take()!.first; // "a-2"
 * ```
 */
export class Lanes<T> {
  /** Every lane not done, by partition: keyed ones by key, lanes of one message apart. */
  #byPartition = new Map<number, { keyed: Map<string, Lane<T>>; own: Set<Lane<T>> }>();
  /** Ready lanes, a min-heap on the queue number of their first message. */
  #heap: Lane<T>[] = [];
  #seq = 0;
  #buffered = 0;

  /** Messages queued and not finished, running ones included. */
  get buffered(): number {
    return this.#buffered;
  }

  /** Lanes that may run their first message now. */
  get ready(): number {
    return this.#heap.length;
  }

  /** Queues `item` at the end of its lane (a lane of its own when `key` is null). */
  push(partition: number, key: string | null, item: T): Lane<T> {
    let lanes = this.#byPartition.get(partition);
    if (lanes === undefined) {
      this.#byPartition.set(partition, lanes = { keyed: new Map(), own: new Set() });
    }
    let lane: Lane<T> | undefined;
    if (key !== null) {
      lane = lanes.keyed.get(key);
      if (lane === undefined) lanes.keyed.set(key, lane = new Lane(partition, key));
    } else {
      lanes.own.add(lane = new Lane(partition, null));
    }
    lane.items.push(item);
    lane.seqs.push(this.#seq++);
    this.#buffered++;
    if (lane.size === 1) {
      lane.state = "ready";
      this.#heapPush(lane);
    }
    return lane;
  }

  /** The ready lane whose first message was queued first, now running; null when none is ready. */
  take(): Lane<T> | null {
    const lane = this.#heapPop();
    if (lane === undefined) return null;
    lane.state = "running";
    return lane;
  }

  /**
   * The first message of a running or held `lane` finished (or is given
   * up): the next one, if any, becomes ready.
   */
  advance(lane: Lane<T>): void {
    if (lane.state === "done") return;
    if (lane.state === "ready") {
      throw new Error("Cannot advance a lane that is ready: its first message has not run");
    }
    lane.items[lane.head] = undefined as T; // let it be collected
    lane.head++;
    lane.failures = 0;
    this.#buffered--;
    if (lane.size === 0) {
      lane.state = "done";
      lane.items = [];
      lane.seqs = [];
      lane.head = 0;
      const lanes = this.#byPartition.get(lane.partition);
      if (lanes !== undefined) {
        if (lane.key === null) lanes.own.delete(lane);
        else if (lanes.keyed.get(lane.key) === lane) lanes.keyed.delete(lane.key);
        if (lanes.keyed.size === 0 && lanes.own.size === 0) {
          this.#byPartition.delete(lane.partition);
        }
      }
      return;
    }
    if (lane.head >= 64 && lane.head * 2 >= lane.items.length) {
      lane.items = lane.items.slice(lane.head);
      lane.seqs = lane.seqs.slice(lane.head);
      lane.head = 0;
    }
    lane.state = "ready";
    this.#heapPush(lane);
  }

  /** The running message of `lane` failed: the lane waits (a retry's backoff, a paused key). */
  hold(lane: Lane<T>): void {
    if (lane.state === "done") return;
    if (lane.state !== "running") {
      throw new Error(`Cannot hold a lane that is ${lane.state}, not running`);
    }
    lane.state = "held";
  }

  /** A held lane may run its first message again; it keeps its place in the queue order. */
  release(lane: Lane<T>): void {
    if (lane.state !== "held") return;
    lane.state = "ready";
    this.#heapPush(lane);
  }

  /**
   * Drops every message of `partition` that is not running. A running one
   * stays its lane's only message until it ends ({@linkcode advance}): a
   * message of the same key queued meanwhile still waits for it. Returns
   * how many messages were dropped.
   */
  drop(partition: number): number {
    const lanes = this.#byPartition.get(partition);
    if (lanes === undefined) return 0;
    let dropped = 0;
    for (const lane of lanes.keyed.values()) {
      dropped += this.#cut(lane);
      if (lane.state === "done") lanes.keyed.delete(lane.key!);
    }
    for (const lane of lanes.own) {
      dropped += this.#cut(lane);
      if (lane.state === "done") lanes.own.delete(lane);
    }
    if (lanes.keyed.size === 0 && lanes.own.size === 0) this.#byPartition.delete(partition);
    const keep = this.#heap.filter((lane) => lane.state !== "done");
    if (keep.length !== this.#heap.length) {
      this.#heap = [];
      for (const lane of keep) this.#heapPush(lane);
    }
    return dropped;
  }

  /** The queue number the next message gets (messages get increasing ones). */
  get nextSeq(): number {
    return this.#seq;
  }

  /** Calls `fn` with every message that waits (not running), and its queue number. */
  forEachWaiting(fn: (item: T, seq: number) => void): void {
    for (const lanes of this.#byPartition.values()) {
      for (const lane of lanes.keyed.values()) visit(lane);
      for (const lane of lanes.own) visit(lane);
    }
    function visit(lane: Lane<T>): void {
      const from = lane.state === "running" ? lane.head + 1 : lane.head;
      for (let i = from; i < lane.items.length; i++) fn(lane.items[i]!, lane.seqs[i]!);
    }
  }

  /** The lane of `partition` and `key` now, if any. */
  lane(partition: number, key: string): Lane<T> | undefined {
    return this.#byPartition.get(partition)?.keyed.get(key);
  }

  /** The partitions that have lanes. */
  partitions(): number[] {
    return [...this.#byPartition.keys()];
  }

  /** Drops what `lane` holds but its running message; returns how many were dropped. */
  #cut(lane: Lane<T>): number {
    const keep = lane.state === "running" ? 1 : 0;
    const dropped = lane.size - keep;
    this.#buffered -= dropped;
    if (keep === 1) {
      lane.items = [lane.first];
      lane.seqs = [lane.seqs[lane.head]!];
      lane.head = 0;
    } else {
      lane.state = "done";
      lane.items = [];
      lane.seqs = [];
      lane.head = 0;
    }
    return dropped;
  }

  #heapPush(lane: Lane<T>): void {
    const heap = this.#heap;
    heap.push(lane);
    let i = heap.length - 1;
    const seq = lane.seqs[lane.head]!;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const above = heap[parent]!;
      if (above.seqs[above.head]! <= seq) break;
      heap[i] = above;
      i = parent;
    }
    heap[i] = lane;
  }

  #heapPop(): Lane<T> | undefined {
    const heap = this.#heap;
    const top = heap[0];
    const last = heap.pop();
    if (top === undefined || last === undefined || heap.length === 0) return top;
    const seq = last.seqs[last.head]!;
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= heap.length) break;
      const right = left + 1;
      let child = left;
      if (right < heap.length) {
        const r = heap[right]!;
        const l = heap[left]!;
        if (r.seqs[r.head]! < l.seqs[l.head]!) child = right;
      }
      const below = heap[child]!;
      if (below.seqs[below.head]! >= seq) break;
      heap[i] = below;
      i = child;
    }
    heap[i] = last;
    return top;
  }
}

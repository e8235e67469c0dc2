// The chaos soak's handler. Every call is appended to this worker's own
// record file (one JSON line: partition, offset, the producer's sequence
// number, worker id, attempt, success, time) before the call returns or
// throws, so that the checker sees every delivery, failed ones included.
//
// Each call waits SOAK_HANDLER_MS (a stand-in for I/O) and honours
// `ctx.signal` as the README asks: a shutdown rejects the call in progress.
//
// Faults it injects, on the soak runner's word:
//   - it throws at random (SOAK_FAIL_RATE, e.g. 0.05): the retry policy and
//     the dead-letter topic take over;
//   - when the runner drops a `slow` file into SOAK_CONTROL, the worker that
//     claims it spends as many ms as the file says in that one call (longer
//     than the group session timeout: a long handler call); a `hold-<daemon>`
//     file does the same for a worker of that daemon only (the runner then
//     stops the daemon while the call is in flight);
//   - when the runner drops a `kill` file into SOAK_CONTROL, the first worker
//     to claim it (an atomic rename) records a kill and dies in the middle of
//     the call: `throw` (an error thrown outside the handler) or `close` (the
//     worker closes itself; Bun's workers have no close(), they exit with
//     process.exit()), as the file says.
//
// With `settings.output` (the `--eos` soak, whose consumer lists the topics
// in `outputs`), each call first produces one record to `settings.output`
// (the message's key and headers copied, a `soak-input: <partition>:<offset>`
// header added, the sequence number as value) and, for the messages whose
// sequence number is a multiple of `settings.secondEvery`, one to
// `settings.second`; only then does it wait, fail or die, so that the
// records of calls that throw or die are there to be (not) committed. A
// message whose sequence number is `settings.poisonEvery - 1` modulo
// `settings.poisonEvery` throws on every attempt: it ends in the
// dead-letter topic.
//
// Node's fs and process, so that it runs on Deno and on Bun.
// Needs `permissions: { env: [SOAK_*], read/write: [SOAK_DIR, SOAK_CONTROL] }`.
import { openSync, readFileSync, renameSync, writeSync } from "node:fs";
import process from "node:process";
import type { Context, Message } from "../../src/mod.ts";
import { INPUT_HEADER } from "./eos_checker.ts";

const recordsDir = process.env.SOAK_DIR;
const controlDir = process.env.SOAK_CONTROL;
if (recordsDir === undefined || controlDir === undefined) {
  throw new Error("The soak handler needs SOAK_DIR and SOAK_CONTROL in its environment");
}
const failRate = Number(process.env.SOAK_FAIL_RATE ?? "0");
const handlerMs = Number(process.env.SOAK_HANDLER_MS ?? "0");
/** This worker's daemon incarnation (e.g. A2). */
const daemon = process.env.SOAK_DAEMON ?? "X";
/** This worker: its daemon and a random suffix. */
const worker = `${daemon}-${crypto.randomUUID().slice(0, 8)}`;
const file = openSync(`${recordsDir}/${worker}.jsonl`, "a");
const encoder = new TextEncoder();
/** How often the control directory is looked at, ms. */
const CONTROL_EVERY_MS = 100;
let controlAt = 0;
let lastKey = "";
let attempt = 0;

function append(record: Record<string, unknown>): void {
  const bytes = encoder.encode(`${JSON.stringify(record)}\n`);
  let written = 0;
  while (written < bytes.length) written += writeSync(file, bytes.subarray(written));
}

/** Claims a pending order (`kill`, `slow`, `hold-…`), if any: only one worker's rename succeeds. */
function claim(order: string): string | null {
  const claimed = `${controlDir}/claimed-${order}-${worker}-${Date.now()}`;
  try {
    renameSync(`${controlDir}/${order}`, claimed);
  } catch {
    return null;
  }
  return readFileSync(claimed, "utf8").trim();
}

const now = () => performance.timeOrigin + performance.now();

/** Waits `ms`, or rejects with the signal's reason once it aborts. */
function wait(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    signal.addEventListener("abort", onAbort, { once: true });
  });
}

/** The `--eos` soak's settings; absent in the plain soak. */
export interface SoakSettings {
  output?: string;
  second?: string;
  secondEvery?: number;
  poisonEvery?: number;
}

/** Produces the call's records (see the module comment); true if the message always fails. */
async function produceOutputs(
  message: Message,
  seq: number,
  ctx: Context<SoakSettings>,
): Promise<boolean> {
  const { output, second, secondEvery = 0, poisonEvery = 0 } = ctx.settings ?? {};
  if (output === undefined) return false;
  const headers = { ...message.headers, [INPUT_HEADER]: `${message.partition}:${message.offset}` };
  const value = String(seq);
  await ctx.produce({ topic: output, key: message.key, value, headers });
  if (second !== undefined && secondEvery > 0 && seq % secondEvery === 0) {
    await ctx.produce({ topic: second, key: message.key, value, headers });
  }
  return poisonEvery > 0 && seq % poisonEvery === poisonEvery - 1;
}

export default async function handle(
  message: Message,
  ctx: Context<SoakSettings>,
): Promise<void> {
  const key = `${message.partition}:${message.offset}`;
  attempt = key === lastKey ? attempt + 1 : 1;
  lastKey = key;
  const base = {
    p: message.partition,
    o: message.offset,
    s: Number(message.text()),
    w: worker,
    a: attempt,
  };
  const poison = await produceOutputs(message, base.s, ctx);
  let kill: string | null = null;
  let slow: { k: "slow" | "hold"; ms: number } | null = null;
  if (Date.now() - controlAt >= CONTROL_EVERY_MS) {
    controlAt = Date.now();
    kill = claim("kill");
    const long = kill === null ? claim("slow") : null;
    const hold = kill === null && long === null ? claim(`hold-${daemon}`) : null;
    if (long !== null) slow = { k: "slow", ms: Number(long) };
    if (hold !== null) slow = { k: "hold", ms: Number(hold) };
  }
  if (kill !== null) {
    append({ k: "kill", ...base, mode: kill, t: now() });
    if (kill === "close") {
      const close = (globalThis as { close?: () => void }).close;
      if (close !== undefined) close();
      else process.exit(1);
    } else {
      setTimeout(() => {
        throw new Error("the soak killed this worker on purpose");
      });
    }
    // Never finishes: the worker dies with this message unfinished.
    return new Promise(() => {});
  }
  const t = now();
  if (slow !== null) append({ ...base, k: slow.k, ms: slow.ms, t });
  try {
    await wait(slow?.ms ?? handlerMs, ctx.signal);
  } catch (error) {
    append({ k: "call", ...base, ok: false, aborted: true, t });
    throw error;
  }
  const ok = !poison && Math.random() >= failRate;
  append({ k: "call", ...base, ok, t });
  if (poison) throw new Error(`poison message (soak) at ${key}: fails on every attempt`);
  if (!ok) throw new Error(`random failure (soak) at ${key}`);
}

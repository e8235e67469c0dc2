// The chaos soak's handler. Every call is appended to this worker's own
// record file (one JSON line: partition, offset, the producer's sequence
// number, worker id, attempt, success, time) before the call returns or
// throws, so that the checker sees every delivery, failed ones included.
//
// Faults it injects, on the soak runner's word:
//   - it throws at random (SOAK_FAIL_RATE, e.g. 0.05): the retry policy and
//     the dead-letter topic take over;
//   - when the runner drops a `kill` file into SOAK_CONTROL, the first worker
//     to claim it (an atomic rename) records a kill and dies in the middle of
//     the call: `throw` (an error thrown outside the handler) or `close` (the
//     worker closes itself and goes silent), as the file says.
//
// Needs `permissions: { env: [SOAK_*], read/write: [SOAK_DIR, SOAK_CONTROL] }`.
import type { Message } from "../../src/mod.ts";

const recordsDir = Deno.env.get("SOAK_DIR");
const controlDir = Deno.env.get("SOAK_CONTROL");
if (recordsDir === undefined || controlDir === undefined) {
  throw new Error("The soak handler needs SOAK_DIR and SOAK_CONTROL in its environment");
}
const failRate = Number(Deno.env.get("SOAK_FAIL_RATE") ?? "0");
/** This worker: the daemon's incarnation (e.g. A2) and a random suffix. */
const worker = `${Deno.env.get("SOAK_DAEMON") ?? "X"}-${crypto.randomUUID().slice(0, 8)}`;
const file = Deno.openSync(`${recordsDir}/${worker}.jsonl`, {
  append: true,
  create: true,
});
const encoder = new TextEncoder();
/** How often the control directory is looked at, ms. */
const CONTROL_EVERY_MS = 100;
let controlAt = 0;
let lastKey = "";
let attempt = 0;

function append(record: Record<string, unknown>): void {
  const bytes = encoder.encode(`${JSON.stringify(record)}\n`);
  let written = 0;
  while (written < bytes.length) written += file.writeSync(bytes.subarray(written));
}

/** Claims a pending kill order, if any: only one worker's rename succeeds. */
function claimKill(): string | null {
  const now = Date.now();
  if (now - controlAt < CONTROL_EVERY_MS) return null;
  controlAt = now;
  const claimed = `${controlDir}/claimed-${worker}`;
  try {
    Deno.renameSync(`${controlDir}/kill`, claimed);
  } catch {
    return null;
  }
  return Deno.readTextFileSync(claimed).trim();
}

export default function handle(message: Message): Promise<void> | void {
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
  const kill = claimKill();
  if (kill !== null) {
    append({ k: "kill", ...base, mode: kill, t: performance.timeOrigin + performance.now() });
    if (kill === "close") {
      (globalThis as unknown as { close(): void }).close();
    } else {
      setTimeout(() => {
        throw new Error("the soak killed this worker on purpose");
      });
    }
    // Never finishes: the worker dies with this message unfinished.
    return new Promise(() => {});
  }
  const ok = Math.random() >= failRate;
  append({ k: "call", ...base, ok, t: performance.timeOrigin + performance.now() });
  if (!ok) throw new Error(`random failure (soak) at ${key}`);
}

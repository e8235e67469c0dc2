/**
 * One measured run, and the measurement window every JavaScript client
 * shares: from the first message its handler saw to the last expected one.
 *
 * @module
 */
import { jsonLine, type MeasuredProcess, type Stream } from "./child.ts";
import { memory, treeCpuMs } from "./proc.ts";

/** What one run of one client on one topic measured. */
export interface Sample {
  messages: number;
  /** Sum of the values' sizes. */
  bytes: number;
  /** From the first to the last message seen by the handler, ms. */
  elapsedMs: number;
  /** User + system CPU time of the process tree, ms. */
  cpuMs: number;
  /** `window`: CPU used between the first and the last message; `total`: the process's whole life. */
  cpuScope: "window" | "total";
  /** Peak resident set of the process (VmHWM), KiB. */
  peakKiB: number;
}

/** How a client marks the window's ends in its output. */
export interface WindowMarkers {
  /** Accepts the line that says the first message arrived. */
  first(record: Record<string, unknown>, stream: Stream): boolean;
  /** Accepts the line that says the expected count was seen. */
  done(record: Record<string, unknown>, stream: Stream): boolean;
}

/** Reads a finite number field of a record. */
export function numberField(record: Record<string, unknown>, name: string): number {
  const value = record[name];
  if (typeof value !== "number" || !Number.isFinite(value)) {
    throw new TypeError(`Expected a number in "${name}": current value is ${String(value)}`);
  }
  return value;
}

/**
 * Waits for the first message and samples the process's CPU time, then for
 * the last one and samples CPU time and peak memory again. The process keeps
 * running; the caller stops it.
 *
 * The `done` record carries `messages`, `bytes` and `elapsedMs` as the
 * handler measured them.
 */
export async function measureWindow(
  process: MeasuredProcess,
  markers: WindowMarkers,
  { firstTimeoutMs, doneTimeoutMs }: { firstTimeoutMs: number; doneTimeoutMs: number },
): Promise<Sample> {
  const matcher = (accept: WindowMarkers["first"]) => (line: string, stream: Stream) => {
    const record = jsonLine(line);
    return record !== null && accept(record, stream);
  };
  const done = process.waitForLine(matcher(markers.done), {
    timeoutMs: firstTimeoutMs + doneTimeoutMs,
    what: "the last message",
  });
  done.catch(() => {}); // awaited below; the first wait may fail first
  await process.waitForLine(matcher(markers.first), {
    timeoutMs: firstTimeoutMs,
    what: "the first message",
  });
  const cpuAtFirst = await treeCpuMs(process.pid);
  const record = jsonLine(await done)!;
  const cpuAtDone = await treeCpuMs(process.pid);
  const { peakKiB } = await memory(process.pid);
  return {
    messages: numberField(record, "messages"),
    bytes: numberField(record, "bytes"),
    elapsedMs: numberField(record, "elapsedMs"),
    cpuMs: cpuAtDone - cpuAtFirst,
    cpuScope: "window",
    peakKiB,
  };
}

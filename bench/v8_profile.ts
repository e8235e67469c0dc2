/**
 * Reading V8's `--prof` tick logs (one per isolate: Deno's main thread and
 * each Web Worker) and attributing every sampled tick to the nearest
 * JavaScript function on its stack, grouped by source area (kafkajs's
 * decoder, kafkajs's consumer, each consumerd file, the handler, Deno's
 * built-in JavaScript). Native and GC time thus counts against the code that
 * caused it.
 *
 * The logs are turned into JSON by Node's tick processor
 * (`node --prof-process --preprocess`). Deno's V8 is newer than Node's and
 * marks some code states Node does not know (`+'`, `*'`, `o+`); they are
 * mapped to the nearest state Node knows first.
 *
 * @module
 */

/** The parts of Node's preprocessed tick log this module reads. */
export interface PreprocessedLog {
  code: Array<{ name: string; type: string; kind?: string }>;
  /** `s`: the stack, top first, as pairs of code index (-1: unknown) and pc offset. */
  ticks: Array<{ tm: number; vm: number; s: number[] }>;
}

/** V8's VM state of a tick that was in the garbage collector. */
const VM_STATE_GC = 1;

/** Ticks of one area (or function), and how many of them were garbage collection. */
export interface TickCount {
  name: string;
  ticks: number;
  gcTicks: number;
}

/** Where one isolate's ticks went within the consumption window. */
export interface IsolateProfile {
  /** False when the isolate decoded no records (e.g. the supervisor): all its ticks count. */
  windowed: boolean;
  /** Ticks in the window (1 ms of CPU each at V8's default interval). */
  ticks: number;
  gcTicks: number;
  /** Ticks outside the window (start-up, group join, shutdown), left out. */
  outside: number;
  areas: TickCount[];
  functions: TickCount[];
}

/**
 * Maps the code states of a newer V8's log to those Node's tick processor
 * knows, line by line.
 *
 * @example
 * ```ts
 * normalizeV8Log("code-creation,JS,12,1,0x1,2,f a.js:1:1,0x2,+'"); // "…,0x2,+"
 * ```
 */
export function normalizeV8Log(text: string): string {
  return text.replace(/,(\+|\*)'$/gm, ",$1").replace(/,o(\+|\*)$/gm, ",$1");
}

/**
 * The area a JavaScript function's source belongs to, from the name V8
 * logs (`fn file:///…/path.js:line:col`).
 */
export function areaOf(name: string): string {
  const kafkajs = name.match(/kafkajs\/src\/([a-zA-Z]+)\//);
  if (kafkajs) return `kafkajs ${kafkajs[1]}/`;
  if (name.includes("/node_modules/@platformatic/")) return "@platformatic/kafka";
  if (name.includes("/node_modules/")) return "other packages";
  const own = name.match(/\/(src\/[\w/]+\.ts)/);
  if (own) return `consumerd ${own[1]}`;
  if (/\/handler\.ts|\/bench\/clients\//.test(name)) return "handler";
  const ext = name.match(/\b(ext:[\w/.]+|node:[\w/]+)/);
  if (ext) return `runtime JS ${ext[1]}`;
  return "other JS";
}

/**
 * Whether a function is one that only runs while records flow: kafkajs,
 * @platformatic/kafka or the platformatic engine (which reads the records
 * of the Fetches it sends itself) decoding fetched records.
 */
export function inWindowMarker(name: string): boolean {
  return /^(decodeRecords|decodeMessages) .*kafkajs\/src\/protocol\//.test(name) ||
    /^readRecordsBatch .*@platformatic\/kafka\/dist\/protocol\/records\.js/.test(name) ||
    /^#build .*src\/kafka\/platformatic\/record_batch\.ts/.test(name);
}

function add(counts: Map<string, TickCount>, name: string, gc: boolean): void {
  const entry = counts.get(name) ?? { name, ticks: 0, gcTicks: 0 };
  entry.ticks++;
  if (gc) entry.gcTicks++;
  counts.set(name, entry);
}

/**
 * Attributes each tick between the first and the last tick that decodes
 * fetched records (the consumption window) to the nearest JavaScript frame
 * on its stack. An isolate that decoded nothing has all its ticks counted.
 */
export function attributeTicks(log: PreprocessedLog): IsolateProfile {
  const isJs = (i: number) => log.code[i]?.type === "JS";
  const frames = (s: number[]) => {
    const out: number[] = [];
    for (let i = 0; i < s.length; i += 2) if (s[i]! >= 0) out.push(s[i]!);
    return out;
  };
  const marked = log.ticks
    .map((t, i) => (frames(t.s).some((c) => isJs(c) && inWindowMarker(log.code[c]!.name)) ? i : -1))
    .filter((i) => i >= 0);
  const first = marked[0] ?? 0;
  const last = marked[marked.length - 1] ?? log.ticks.length - 1;
  const areas = new Map<string, TickCount>();
  const functions = new Map<string, TickCount>();
  let ticks = 0;
  let gcTicks = 0;
  for (let i = first; i <= last; i++) {
    const tick = log.ticks[i]!;
    const gc = tick.vm === VM_STATE_GC;
    ticks++;
    if (gc) gcTicks++;
    const js = frames(tick.s).find(isJs);
    const name = js === undefined ? "(native, no JavaScript on the stack)" : log.code[js]!.name;
    add(areas, js === undefined ? name : areaOf(name), gc);
    add(functions, name.replace(/file:\/\/\/\S*?\/(node_modules|src|bench)\//, "$1/"), gc);
  }
  const sorted = (m: Map<string, TickCount>) => [...m.values()].sort((a, b) => b.ticks - a.ticks);
  return {
    windowed: marked.length > 0,
    ticks,
    gcTicks,
    outside: log.ticks.length - ticks,
    areas: sorted(areas),
    functions: sorted(functions),
  };
}

/**
 * Preprocesses one isolate's log with Node's tick processor and attributes
 * its ticks; see {@linkcode attributeTicks}.
 */
export async function profileIsolateLog(path: string): Promise<IsolateProfile> {
  const normalized = `${path}.normalized`;
  await Deno.writeTextFile(normalized, normalizeV8Log(await Deno.readTextFile(path)));
  const out = await new Deno.Command("node", {
    args: ["--prof-process", "--preprocess", normalized],
    stderr: "piped",
  }).output();
  if (!out.success) {
    throw new Error(
      `node --prof-process failed on ${path}:\n${new TextDecoder().decode(out.stderr)}`,
    );
  }
  // Node prints a version warning before the JSON when the V8 versions differ.
  const text = new TextDecoder().decode(out.stdout);
  return attributeTicks(JSON.parse(text.slice(text.indexOf("{"))) as PreprocessedLog);
}

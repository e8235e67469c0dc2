/**
 * Where the worker entry lives inside a single executable built by
 * `deno task compile` (`bun build --compile src/main.ts src/worker/entry.ts`).
 *
 * Inside such a binary every bundled module's `import.meta.url` is the
 * binary's own embedded path (`file:///$bunfs/root/consumerd`), so a URL the
 * supervisor computes relative to its source file points at nothing. The
 * build embeds each entry point at its path relative to `src/`, with a `.js`
 * extension, next to the bundle: `file:///$bunfs/root/worker/entry.js`.
 *
 * @module
 */

/** Markers of Bun's embedded file system: `/$bunfs/` (Linux, macOS), `~BUN` (Windows). */
const EMBEDDED_MARKERS = ["/$bunfs/", "/~BUN/"];

/** Whether `moduleUrl` (an `import.meta.url`) lies inside a compiled executable. */
export function isEmbedded(moduleUrl: string): boolean {
  return EMBEDDED_MARKERS.some((m) => decodeURI(moduleUrl).includes(m));
}

/**
 * Maps a worker entry's source URL to its embedded URL when running inside a
 * compiled executable; returns `entry` unchanged otherwise.
 *
 * The entry keeps its last directory and file name (`worker/entry.ts` →
 * `worker/entry.js`), resolved against the directory of the bundle.
 *
 * @example
 * ```ts
 * embeddedWorkerEntry(new URL("file:///$bunfs/worker/entry.ts"), "file:///$bunfs/root/consumerd");
 * // → "file:///$bunfs/root/worker/entry.js"
 * ```
 */
export function embeddedWorkerEntry(entry: URL, moduleUrl: string): string {
  if (!isEmbedded(moduleUrl)) return entry.href;
  const parts = entry.pathname.split("/").filter((p) => p.length > 0);
  const file = parts.at(-1);
  const dir = parts.at(-2);
  if (file === undefined || dir === undefined) {
    throw new TypeError(
      `Cannot locate the worker entry "${entry.href}" in the executable: expected <dir>/<file>`,
    );
  }
  const js = file.replace(/\.(ts|mts|tsx)$/, ".js");
  return new URL(`${dir}/${js}`, new URL("./", moduleUrl)).href;
}

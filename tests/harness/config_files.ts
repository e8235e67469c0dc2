/**
 * The ways people and tools save a config file that the daemon watches:
 * in place, by atomic rename (editors), and by a Kubernetes ConfigMap
 * volume's symlink swap.
 *
 * @module
 */
import { join } from "node:path";

/** Writes the file in place (truncate and write). */
export async function saveInPlace(path: string, text: string): Promise<void> {
  await Deno.writeTextFile(path, text);
}

/** Writes a temporary file beside `path` and renames it over `path`, as editors do. */
export async function saveByRename(path: string, text: string): Promise<void> {
  const temp = `${path}.${crypto.randomUUID().slice(0, 8)}.tmp`;
  await Deno.writeTextFile(temp, text);
  await Deno.rename(temp, path);
}

/**
 * A directory laid out as Kubernetes mounts a ConfigMap: `<file>` →
 * `..data/<file>`, `..data` → `..<timestamp>/`; an update writes a new
 * timestamped directory, points `..data_tmp` at it, renames `..data_tmp`
 * over `..data` and removes the old directory.
 */
export class ConfigMapDir {
  readonly dir: string;
  readonly file: string;
  #version = 0;
  #current: string | null = null;

  constructor(dir: string, file = "consumers.yaml") {
    this.dir = dir;
    this.file = file;
  }

  /** The path the daemon reads: `<dir>/<file>`, a symlink. */
  get path(): string {
    return join(this.dir, this.file);
  }

  /** Publishes a new version of the file (the first call creates the layout). */
  async publish(text: string): Promise<void> {
    const version = `..2026_11_29_00_00_${String(++this.#version).padStart(2, "0")}.${
      crypto.randomUUID().slice(0, 6)
    }`;
    await Deno.mkdir(join(this.dir, version));
    await Deno.writeTextFile(join(this.dir, version, this.file), text);
    const temp = join(this.dir, "..data_tmp");
    await Deno.symlink(version, temp);
    await Deno.rename(temp, join(this.dir, "..data"));
    if (this.#current === null) {
      await Deno.symlink(join("..data", this.file), this.path);
    } else {
      await Deno.remove(join(this.dir, this.#current), { recursive: true });
    }
    this.#current = version;
  }
}

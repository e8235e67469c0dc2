/**
 * Maps a field path (`consumers[2].autoOffsetReset`) to its line and column
 * in the YAML source.
 *
 * @module
 */
import {
  type Document,
  isAlias,
  isMap,
  isPair,
  isScalar,
  isSeq,
  type LineCounter,
} from "./yaml.ts";

/** A path into the parsed document: map keys and sequence indexes. */
export type FieldPath = readonly (string | number)[];

/** A 1-based position in the source. */
export interface Position {
  line: number;
  column: number;
}

/**
 * Formats a path the way people write it: `consumers[2].commit.intervalMs`.
 *
 * @example
 * ```ts
 * formatPath(["consumers", 2, "autoOffsetReset"]); // "consumers[2].autoOffsetReset"
 * ```
 */
export function formatPath(path: FieldPath): string {
  let text = "";
  for (const segment of path) {
    if (typeof segment === "number") text += `[${segment}]`;
    else if (/^[A-Za-z_$][\w$-]*$/.test(segment)) text += text === "" ? segment : `.${segment}`;
    else text += `[${JSON.stringify(segment)}]`;
  }
  return text;
}

interface Found {
  /** How many leading path segments exist in the document. */
  depth: number;
  /** The node at that depth (the value, or the key when the value is empty). */
  valueRange: readonly number[] | undefined;
  /** The key node of the last segment found, when it is a map key. */
  keyRange: readonly number[] | undefined;
}

type AnyNode = unknown;

function rangeOf(node: AnyNode): readonly number[] | undefined {
  if (node !== null && typeof node === "object" && "range" in node) {
    const range = (node as { range?: unknown }).range;
    if (Array.isArray(range) && typeof range[0] === "number") return range as number[];
  }
  return undefined;
}

/** Finds the pair for `key` in a map, looking through `<<` merge keys too. */
function findPair(doc: Document, map: AnyNode, key: string, seen: Set<AnyNode>): AnyNode {
  if (!isMap(map) || seen.has(map)) return undefined;
  seen.add(map);
  let merges: AnyNode[] = [];
  for (const pair of map.items) {
    if (!isPair(pair)) continue;
    const keyValue = isScalar(pair.key) ? pair.key.value : pair.key;
    if (keyValue === "<<") {
      const source = pair.value;
      merges = isSeq(source) ? [...source.items] : [source];
    } else if (String(keyValue) === key) {
      return pair;
    }
  }
  for (const merge of merges) {
    const target = isAlias(merge) ? merge.resolve(doc) : merge;
    const pair = findPair(doc, target, key, seen);
    if (pair !== undefined) return pair;
  }
  return undefined;
}

/**
 * Finds source positions for field paths in one parsed YAML document.
 *
 * @example
 * ```ts
 * const lineCounter = new LineCounter();
 * const doc = parseDocument(text, { lineCounter });
 * const locator = new Locator(doc, lineCounter);
 * locator.position(["consumers", 0, "topic"]); // { line: 4, column: 12 }
 * ```
 */
export class Locator {
  readonly #doc: Document;
  readonly #lineCounter: LineCounter;

  /** Creates a locator for `doc`, which was parsed with `lineCounter`. */
  constructor(doc: Document, lineCounter: LineCounter) {
    this.#doc = doc;
    this.#lineCounter = lineCounter;
  }

  #find(path: FieldPath): Found {
    let node: AnyNode = this.#doc.contents;
    let found: Found = { depth: 0, valueRange: rangeOf(node), keyRange: undefined };
    for (const [index, segment] of path.entries()) {
      if (isAlias(node)) node = node.resolve(this.#doc);
      let next: AnyNode;
      let keyRange: readonly number[] | undefined;
      if (isMap(node)) {
        const pair = findPair(this.#doc, node, String(segment), new Set());
        if (!isPair(pair)) break;
        keyRange = rangeOf(pair.key);
        next = pair.value;
      } else if (isSeq(node) && typeof segment === "number") {
        if (segment < 0 || segment >= node.items.length) break;
        next = node.items[segment];
      } else {
        break;
      }
      const valueRange = rangeOf(next) ?? keyRange;
      found = { depth: index + 1, valueRange: valueRange ?? found.valueRange, keyRange };
      node = next;
    }
    return found;
  }

  /** Whether every segment of `path` exists in the document. */
  has(path: FieldPath): boolean {
    return this.#find(path).depth === path.length;
  }

  /**
   * The position of the value at `path` (of its key when `key` is set), or of
   * the deepest part of the path that exists when the rest is missing.
   */
  position(path: FieldPath, { key = false }: { key?: boolean } = {}): Position {
    const found = this.#find(path);
    const range = key && found.depth === path.length && found.keyRange !== undefined
      ? found.keyRange
      : found.valueRange;
    return this.offsetPosition(range?.[0] ?? 0);
  }

  /**
   * The path of the map key that starts at `offset`, and the offset of an
   * earlier key in the same map with the same value (for duplicate keys).
   */
  keyAt(offset: number): { path: FieldPath; earlierOffset: number | undefined } | undefined {
    const stack: { node: unknown; path: FieldPath }[] = [{ node: this.#doc.contents, path: [] }];
    while (stack.length > 0) {
      const { node, path } = stack.pop() as { node: unknown; path: FieldPath };
      if (isMap(node)) {
        const seen = new Map<string, number>();
        for (const pair of node.items) {
          if (!isPair(pair)) continue;
          const key = String(isScalar(pair.key) ? pair.key.value : pair.key);
          const start = rangeOf(pair.key)?.[0];
          if (start === offset) return { path: [...path, key], earlierOffset: seen.get(key) };
          if (start !== undefined && !seen.has(key)) seen.set(key, start);
          stack.push({ node: pair.value, path: [...path, key] });
        }
      } else if (isSeq(node)) {
        node.items.forEach((item, index) => stack.push({ node: item, path: [...path, index] }));
      }
    }
    return undefined;
  }

  /** The 1-based line and column of a character offset in the source. */
  offsetPosition(offset: number): Position {
    const { line, col } = this.#lineCounter.linePos(offset);
    return { line, column: col };
  }
}

/**
 * Reading YAML nodes with their positions, and the problems found in them: the Reader every
 * field reader takes, syntax errors, hints (closest key, quoting), and small helpers.
 */
import { LineCounter, Scalar, isAlias, isMap, isScalar, isSeq, visit, type Document, type YAMLError, type YAMLMap, type YAMLSeq } from 'yaml';
import type { ComposeProblem, SourcePosition } from '../errors.js';

// ---------------------------------------------------------------------------------------------
// Reading YAML nodes with their positions

type Value = Scalar | YAMLMap | YAMLSeq;

/** A YAML value (aliases resolved) and where it is written in the file. */
export interface Located {
  value: Value;
  at: SourcePosition;
}

export type Fields = Map<string, Located>;

export class Reader {
  readonly problems: ComposeProblem[] = [];

  constructor(
    private readonly doc: Document,
    private readonly lines: LineCounter,
    /** Absolute folder of the compose file. */
    readonly dir: string,
  ) {}

  problem(at: SourcePosition | undefined, what: string, hint: string): void {
    this.problems.push(at ? { position: at, what, hint } : { what, hint });
  }

  positionOf(offset: number): SourcePosition {
    const { line, col } = this.lines.linePos(offset);
    return { line, column: col };
  }

  /** The document's top-level value, or undefined for an empty file. */
  top(): Located | undefined {
    const contents = this.doc.contents;
    return contents === null ? undefined : this.locate(contents, { line: 1, column: 1 });
  }

  /**
   * A node with its position. An alias stands for its anchor's value but keeps its own position
   * (aliases without an anchor were reported as syntax errors before reading).
   */
  locate(node: unknown, fallback: SourcePosition): Located {
    const at = hasRange(node) ? this.positionOf(node.range[0]) : fallback;
    const value: unknown = isAlias(node) ? node.resolve(this.doc) : node;
    if (isScalar(value) || isMap(value) || isSeq(value)) return { value, at };
    return { value: new Scalar(null), at };
  }

  /** The keys of a mapping; unknown keys are reported (with a did-you-mean hint when close). */
  fields(map: YAMLMap, known: readonly string[], owner: string, ownerAt: SourcePosition): Fields {
    const fields: Fields = new Map();
    for (const pair of map.items) {
      const key = this.locate(pair.key, ownerAt);
      const name = isScalar(key.value) ? String(key.value.value) : shown(key.value);
      if (!known.includes(name)) {
        this.problem(key.at, `unknown key "${name}" in ${owner}`, unknownKeyHint(name, known));
        continue;
      }
      fields.set(name, this.locate(pair.value, key.at));
    }
    return fields;
  }

  /** A required key; its absence is reported at the mapping that lacks it. */
  required(fields: Fields, key: string, owner: string, ownerAt: SourcePosition, hint: string): Located | undefined {
    const value = fields.get(key);
    if (!value) this.problem(ownerAt, `missing required key "${key}" in ${owner}`, hint);
    return value;
  }

  string(v: Located, key: string, hint: string): string | undefined {
    if (isScalar(v.value) && typeof v.value.value === 'string') return v.value.value;
    this.problem(v.at, `${key}: expected a string, found ${kindOf(v.value)}`, quoteHint(v.value, key) ?? hint);
    return undefined;
  }

  /** A non-empty string. */
  text(v: Located, key: string, hint: string): string | undefined {
    const text = this.string(v, key, hint);
    if (text === '') {
      this.problem(v.at, `${key} is empty`, hint);
      return undefined;
    }
    return text;
  }

  list(v: Located, key: string, hint: string): Located[] | undefined {
    if (!isSeq(v.value)) {
      this.problem(v.at, `${key}: expected a list, found ${kindOf(v.value)}`, hint);
      return undefined;
    }
    return v.value.items.map((item) => this.locate(item, v.at));
  }

  map(v: Located, what: string, hint: string): YAMLMap | undefined {
    if (isMap(v.value)) return v.value;
    this.problem(v.at, `${what}: expected a mapping, found ${kindOf(v.value)}`, hint);
    return undefined;
  }
}

function hasRange(node: unknown): node is { range: [number, number, number] } {
  return typeof node === 'object' && node !== null && Array.isArray((node as { range?: unknown }).range);
}

function kindOf(value: Value): string {
  if (isMap(value)) return 'a mapping';
  if (isSeq(value)) return 'a list';
  const v = value.value;
  if (v === null || v === undefined) return 'nothing';
  if (typeof v === 'string') return `a string`;
  if (typeof v === 'boolean') return `a boolean (${String(v)})`;
  if (typeof v === 'number' || typeof v === 'bigint') return `a number (${String(v)})`;
  return 'a value of another type';
}

/** A short rendering of a value for messages. */
export function shown(value: Value): string {
  if (isScalar(value)) return typeof value.value === 'string' ? `"${value.value}"` : String(value.value);
  return kindOf(value);
}

/** A true/false field; `fallback` (and a problem) when it is anything else. */
export function readBoolean(reader: Reader, v: Located, key: string, fallback: boolean): boolean {
  if (isScalar(v.value) && typeof v.value.value === 'boolean') return v.value.value;
  reader.problem(v.at, `${key} must be true or false, found ${shown(v.value)}`, `write ${key}: true or ${key}: false`);
  return fallback;
}

/** For a number or boolean where a string was expected, suggest quoting it. */
function quoteHint(value: Value, key: string): string | undefined {
  if (!isScalar(value)) return undefined;
  const v = value.value;
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') {
    const source = typeof value.source === 'string' ? value.source : String(v);
    return `quote it to make it a string: ${key}: "${source}"`;
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// YAML syntax

/**
 * The parser's first error, and aliases that name no earlier anchor. Only the first: one
 * missing bracket or bad indentation makes the parser trip over every line after it, and those
 * errors all point back at the one mistake.
 */
export function reportSyntaxErrors(reader: Reader, doc: Document): void {
  const first = doc.errors[0];
  if (first) {
    reader.problem(reader.positionOf(first.pos[0]), `invalid YAML: ${first.message}`, syntaxHint(first));
    return;
  }
  visit(doc, {
    Alias(_key, alias) {
      if (alias.resolve(doc) === undefined && alias.range) {
        const name = alias.source;
        reader.problem(reader.positionOf(alias.range[0]), `unknown alias *${name}`, `define &${name} before using *${name}`);
      }
    },
  });
}

function syntaxHint(err: YAMLError): string {
  switch (err.code) {
    case 'DUPLICATE_KEY': return 'each key may appear only once in a mapping; remove or merge the repeated one';
    case 'MULTIPLE_DOCS': return 'a compose file holds one YAML document; remove the extra "---"';
    case 'TAB_AS_INDENT': return 'indent with spaces, not tabs';
    default: return 'fix the YAML syntax at or just before this place: indentation, quotes, brackets, ":" after keys';
  }
}


// ---------------------------------------------------------------------------------------------
// Helpers

/** Each later item whose key was already seen, with the first item of that key. */
export function duplicates<T>(items: readonly T[], keyOf: (item: T) => string): Array<[T, T]> {
  const first = new Map<string, T>();
  const found: Array<[T, T]> = [];
  for (const item of items) {
    const key = keyOf(item);
    const earlier = first.get(key);
    if (earlier === undefined) first.set(key, item);
    else found.push([item, earlier]);
  }
  return found;
}

function unknownKeyHint(name: string, known: readonly string[]): string {
  const close = closest(name, known);
  return close ? `did you mean "${close}"?` : `valid keys here: ${known.join(', ')}`;
}

/** The candidate within edit distance 2 of `word` (the nearest; the first of equals), if any. */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = 3;
  for (const candidate of candidates) {
    const distance = editDistance(word, candidate);
    if (distance < bestDistance && distance < Math.max(word.length, candidate.length)) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}

/**
 * Edit distance with swaps: insertions, deletions, substitutions and transpositions of two
 * neighbours count one each (the optimal string alignment distance), so that `josn` is one
 * step from `json` and two from `jobs`.
 */
function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const row = d[i]!;
      row[j] = Math.min(d[i - 1]![j]! + 1, row[j - 1]! + 1, d[i - 1]![j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) row[j] = Math.min(row[j]!, d[i - 2]![j - 2]! + 1);
    }
  }
  return d[a.length]![b.length]!;
}

export function unreadableFileHint(err: unknown): string {
  switch ((err as NodeJS.ErrnoException).code) {
    case 'ENOENT': return 'check the path, or write a starter file with `mediacompose init`';
    case 'EACCES': return 'make the file readable for this user';
    default: return 'check the path and its permissions';
  }
}

export function sortProblems(problems: readonly ComposeProblem[]): ComposeProblem[] {
  const order = (p: ComposeProblem): number => (p.position ? p.position.line * 1_000_000 + p.position.column : 0);
  return [...problems].sort((a, b) => order(a) - order(b));
}

export function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}

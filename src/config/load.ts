/**
 * Reads compose.yaml into a frozen ComposeSpec, following docs/compose-spec.md ("compose.yaml").
 * Every problem is collected with the line and column of the YAML node it is about; one
 * ComposeError (exit 2) then lists them all, so a person can fix the file in one pass.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  LineCounter,
  Scalar,
  isAlias,
  isMap,
  isScalar,
  isSeq,
  parseDocument,
  visit,
  type Document,
  type YAMLError,
  type YAMLMap,
  type YAMLSeq,
} from 'yaml';
import {
  ComposeError,
  describeSystemError,
  type ComposeProblem,
  type SourcePosition,
} from '../errors.js';
import {
  ARCH_ALIASES,
  DEFAULT_LEVEL,
  DEFAULT_METADATA,
  DEFAULT_MIN_SHARED_SIZE,
  INSTALLER_ARCHS,
  type LayeringSpec,
  type ComposeSpec,
  type CompressionName,
  type ImagesetSpec,
  type SharedImageSpec,
} from './spec.js';
import { mediumLimitProblems } from './medium-limits.js';

export const COMPRESSIONS: readonly CompressionName[] = ['xz', 'lzma', 'bzip2', 'gzip'];

/** Imageset and shared image names: they become file stems on the medium. */
export const NAME_PATTERN = /^[a-z0-9][a-z0-9._-]*$/;

const TOP_KEYS = ['version', 'medium', 'compression', 'level', 'arch', 'imagesets', 'images', 'metadata', 'layering'];
const LAYERING_KEYS = ['auto', 'min_size'];
const IMAGESET_KEYS = ['name', 'title', 'patterns', 'root', 'arch'];
const IMAGE_KEYS = ['name', 'label', 'shared_by'];

/** Reads and validates a compose file; throws ComposeError listing every problem. */
export function loadCompose(file: string): ComposeSpec {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new ComposeError(file, [
      { what: `cannot read compose file: ${describeSystemError(err)}`, hint: unreadableFileHint(err) },
    ]);
  }
  return parseCompose(text, file);
}

/**
 * Validates compose.yaml text. `file` is the compose file's path: relative paths inside it are
 * resolved against its folder, and messages name it as given.
 */
export function parseCompose(text: string, file: string): ComposeSpec {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false });
  const reader = new Reader(doc, lines, path.dirname(path.resolve(file)));
  reportSyntaxErrors(reader, doc);
  const spec = reader.problems.length === 0 ? readSpec(reader, path.resolve(file)) : undefined;
  if (reader.problems.length > 0 || spec === undefined) {
    throw new ComposeError(file, sortProblems(reader.problems));
  }
  return deepFreeze(spec);
}

// ---------------------------------------------------------------------------------------------
// Reading YAML nodes with their positions

type Value = Scalar | YAMLMap | YAMLSeq;

/** A YAML value (aliases resolved) and where it is written in the file. */
interface Located {
  value: Value;
  at: SourcePosition;
}

type Fields = Map<string, Located>;

class Reader {
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
    const items: Located[] = [];
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
function shown(value: Value): string {
  if (isScalar(value)) return typeof value.value === 'string' ? `"${value.value}"` : String(value.value);
  return kindOf(value);
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

/** The parser's errors, and aliases that name no earlier anchor. */
function reportSyntaxErrors(reader: Reader, doc: Document): void {
  for (const err of doc.errors) {
    reader.problem(reader.positionOf(err.pos[0]), `invalid YAML: ${err.message}`, syntaxHint(err));
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
    default: return 'fix the YAML syntax here (indentation, quotes, brackets, ":" after keys)';
  }
}

// ---------------------------------------------------------------------------------------------
// Top level

interface ArchDefault {
  /** True when the top level has an `arch:` key. */
  present: boolean;
  /** Its value, when valid. */
  arch?: string;
}

function readSpec(reader: Reader, file: string): ComposeSpec | undefined {
  const top = reader.top();
  if (!top) {
    reader.problem(undefined, 'compose file is empty', 'write at least medium: and imagesets:, or run `mediacompose init`');
    return undefined;
  }
  const map = reader.map(top, 'compose file', 'the top level is a mapping of keys such as medium: and imagesets:');
  if (!map) return undefined;
  const fields = reader.fields(map, TOP_KEYS, 'the top level', top.at);

  readVersion(reader, fields.get('version'));
  const medium = readMedium(reader, fields, top.at);
  const compression = readCompression(reader, fields.get('compression'));
  const level = readLevel(reader, fields.get('level'), compression);
  const archDefault = readArchDefault(reader, fields.get('arch'));
  const imagesets = readImagesets(reader, fields, top.at, archDefault);
  checkImagesets(reader, imagesets);
  const images = readImages(reader, fields.get('images'), imagesets);
  checkImages(reader, images, imagesets);
  const metadata = readMetadata(reader, fields.get('metadata'));
  const layering = readLayering(reader, fields.get('layering'), fields.has('images'));

  if (reader.problems.length > 0) return undefined;
  const spec: ComposeSpec = {
    file,
    medium,
    compression,
    level,
    imagesets: imagesets.map(completeImageset),
    images: images.map(completeImage),
    imagesDeclared: fields.has('images'),
    metadata,
    layering,
  };
  for (const p of mediumLimitProblems(spec, fields.get('medium')?.at)) reader.problems.push(p);
  return reader.problems.length > 0 ? undefined : spec;
}

// ---------------------------------------------------------------------------------------------
// Layering

const SIZE_UNITS: Record<string, number> = { '': 1, B: 1, KiB: 1024, MiB: 1024 ** 2, GiB: 1024 ** 3 };

function readLayering(reader: Reader, v: Located | undefined, imagesDeclared: boolean): LayeringSpec {
  const defaults: LayeringSpec = { auto: !imagesDeclared, minSize: DEFAULT_MIN_SHARED_SIZE };
  if (!v) return defaults;
  const map = reader.map(v, 'layering', 'a mapping such as layering: {auto: true, min_size: 1MiB}');
  if (!map) return defaults;
  const fields = reader.fields(map, LAYERING_KEYS, 'layering', v.at);
  const auto = fields.get('auto');
  const minSize = fields.get('min_size');
  return {
    auto: auto ? readBoolean(reader, auto, 'auto', defaults.auto) : defaults.auto,
    minSize: minSize ? readSize(reader, minSize, defaults.minSize) : defaults.minSize,
  };
}

function readBoolean(reader: Reader, v: Located, key: string, fallback: boolean): boolean {
  if (isScalar(v.value) && typeof v.value.value === 'boolean') return v.value.value;
  reader.problem(v.at, `${key} must be true or false, found ${shown(v.value)}`, `write ${key}: true or ${key}: false`);
  return fallback;
}

/** A byte count: an integer, or a number with KiB, MiB or GiB ("512KiB", "1MiB"). */
function readSize(reader: Reader, v: Located, fallback: number): number {
  const raw = isScalar(v.value) ? v.value.value : undefined;
  const match = typeof raw === 'number' && raw >= 0 ? [String(raw), String(raw), ''] : typeof raw === 'string' ? /^\s*(\d+)\s*(B|KiB|MiB|GiB)?\s*$/.exec(raw) : null;
  if (match && Number.isSafeInteger(Number(match[1]))) return Number(match[1]) * SIZE_UNITS[match[2] ?? '']!;
  reader.problem(v.at, `min_size must be a size, found ${shown(v.value)}`, 'write bytes as an integer or with a unit: 512KiB, 1MiB, 1GiB');
  return fallback;
}

function readVersion(reader: Reader, v: Located | undefined): void {
  if (!v) return;
  if (isScalar(v.value) && v.value.value === 1) return;
  reader.problem(v.at, `unsupported version ${shown(v.value)}`, 'this mediacompose reads version: 1');
}

function readMedium(reader: Reader, fields: Fields, topAt: SourcePosition): string {
  const hint = 'the output folder, relative to the compose file, e.g. medium: out/medium';
  const v = reader.required(fields, 'medium', 'the top level', topAt, 'add the output folder, e.g. medium: out/medium');
  const medium = v && reader.text(v, 'medium', hint);
  return medium === undefined ? '' : path.resolve(reader.dir, medium);
}

function readCompression(reader: Reader, v: Located | undefined): CompressionName {
  if (!v) return 'xz';
  const hint = `use one of: ${COMPRESSIONS.join(', ')}`;
  const name = reader.string(v, 'compression', hint);
  if (name === undefined) return 'xz';
  const known = COMPRESSIONS.find((c) => c === name);
  if (known) return known;
  const close = closest(name, COMPRESSIONS);
  reader.problem(v.at, `unknown compression "${name}"`, close ? `did you mean "${close}"? ${hint}` : hint);
  return 'xz';
}

function readLevel(reader: Reader, v: Located | undefined, compression: CompressionName): number {
  const usual = DEFAULT_LEVEL[compression];
  if (!v) return usual;
  const level = isScalar(v.value) ? v.value.value : undefined;
  if (typeof level === 'number' && Number.isInteger(level) && level >= 1 && level <= 9) return level;
  reader.problem(
    v.at,
    `level must be an integer from 1 to 9, found ${shown(v.value)}`,
    `the usual level for ${compression} is ${usual}; leave level out to use it`,
  );
  return usual;
}

// ---------------------------------------------------------------------------------------------
// Archs

function readArchDefault(reader: Reader, v: Located | undefined): ArchDefault {
  if (!v) return { present: false };
  const arch = readArch(reader, v);
  return arch === undefined ? { present: true } : { present: true, arch };
}

/** An arch value; undefined (after reporting) unless it is one the installer knows. */
function readArch(reader: Reader, v: Located): string | undefined {
  const valid = `use one of: ${INSTALLER_ARCHS.join(', ')}`;
  const arch = reader.text(v, 'arch', valid);
  if (arch === undefined) return undefined;
  if (INSTALLER_ARCHS.includes(arch)) return arch;
  const alias = ARCH_ALIASES[arch];
  const hint = alias ? `the installer calls this arch "${alias}"` : valid;
  reader.problem(v.at, `unknown arch "${arch}"`, hint);
  return undefined;
}

/** The imageset's own arch, else the top-level default; reports when neither is written. */
function effectiveArch(
  reader: Reader,
  own: Located | undefined,
  archDefault: ArchDefault,
  imageset: { name: string; at: SourcePosition },
): string | undefined {
  if (own) return readArch(reader, own);
  if (archDefault.present) return archDefault.arch;
  reader.problem(
    imageset.at,
    `arch required for imageset ${imageset.name ? `"${imageset.name}"` : `at line ${imageset.at.line}`}`,
    'add arch: to the imageset, or a default arch: at the top level',
  );
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Imagesets

interface NameAt {
  name: string;
  at: SourcePosition;
}

/** An imageset as read; a field is undefined when it was missing or invalid (and reported). */
interface ImagesetDraft {
  at: SourcePosition;
  name?: NameAt;
  title?: string;
  patterns?: { list: string[]; at: SourcePosition };
  root?: { resolved: string; written: string };
  arch?: string;
}

function readImagesets(reader: Reader, fields: Fields, topAt: SourcePosition, archDefault: ArchDefault): ImagesetDraft[] {
  const hint = 'list one imageset per installed root: - {name: kde, patterns: [base, kde], root: roots/kde}';
  const v = reader.required(fields, 'imagesets', 'the top level', topAt, `add imagesets: and ${hint}`);
  if (!v) return [];
  const items = reader.list(v, 'imagesets', hint);
  if (!items) return [];
  if (items.length === 0) reader.problem(v.at, 'imagesets is empty', hint);
  const drafts: ImagesetDraft[] = [];
  for (const item of items) {
    const draft = readImageset(reader, item, archDefault);
    if (draft) drafts.push(draft);
  }
  return drafts;
}

function readImageset(reader: Reader, item: Located, archDefault: ArchDefault): ImagesetDraft | undefined {
  const map = reader.map(item, 'imageset', 'an imageset is a mapping with name:, patterns: and root:');
  if (!map) return undefined;
  const fields = reader.fields(map, IMAGESET_KEYS, 'imageset', item.at);
  const name = readName(reader, fields, 'imageset', item.at);
  const titleField = fields.get('title');
  const title = titleField ? reader.text(titleField, 'title', 'the label prefix shown by the installer, e.g. title: KDE') : name?.name.toUpperCase();
  return {
    at: item.at,
    name,
    title,
    patterns: readPatterns(reader, fields, item.at),
    root: readRoot(reader, fields, item.at),
    arch: effectiveArch(reader, fields.get('arch'), archDefault, { name: name?.name ?? '', at: item.at }),
  };
}

/** The name of an imageset or shared image: required, and a valid file stem. */
function readName(reader: Reader, fields: Fields, owner: string, ownerAt: SourcePosition): NameAt | undefined {
  const v = reader.required(fields, 'name', owner, ownerAt, `add name:, e.g. name: kde`);
  if (!v) return undefined;
  const rule = 'lower-case letters, digits, ".", "_" and "-", starting with a letter or digit';
  const name = reader.string(v, 'name', `a name uses ${rule}`);
  if (name === undefined) return undefined;
  if (!NAME_PATTERN.test(name)) {
    const lower = name.toLowerCase();
    const hint = NAME_PATTERN.test(lower) ? `did you mean "${lower}"? names use ${rule}` : `names use ${rule}`;
    reader.problem(v.at, `invalid ${owner} name "${name}"`, hint);
    return undefined;
  }
  return { name, at: v.at };
}

function readPatterns(reader: Reader, fields: Fields, ownerAt: SourcePosition): ImagesetDraft['patterns'] {
  const hint = 'list the pattern names of this root, e.g. patterns: [base, x11, kde]';
  const v = reader.required(fields, 'patterns', 'imageset', ownerAt, 'add the pattern names of this root, e.g. patterns: [base, x11, kde]');
  if (!v) return undefined;
  const items = reader.list(v, 'patterns', hint);
  if (!items) return undefined;
  if (items.length === 0) {
    reader.problem(v.at, 'patterns is empty', hint);
    return undefined;
  }
  const list: string[] = [];
  for (const item of items) {
    const pattern = reader.string(item, 'pattern', hint);
    if (pattern !== undefined && checkPattern(reader, pattern, item.at)) list.push(pattern);
  }
  return list.length === items.length ? { list, at: v.at } : undefined;
}

function checkPattern(reader: Reader, pattern: string, at: SourcePosition): boolean {
  const split = "the installer splits the patterns string on ',' and ' '; write each pattern as its own list item";
  if (pattern === '') {
    reader.problem(at, 'empty pattern name', 'remove the empty item from patterns');
    return false;
  }
  if (pattern.includes(',')) {
    reader.problem(at, `pattern "${pattern}" contains ","`, split);
    return false;
  }
  if (/\s/.test(pattern)) {
    reader.problem(at, `pattern "${pattern}" contains whitespace`, split);
    return false;
  }
  return true;
}

function readRoot(reader: Reader, fields: Fields, ownerAt: SourcePosition): ImagesetDraft['root'] {
  const hint = 'the installed root folder, relative to the compose file, e.g. root: roots/kde';
  const v = reader.required(fields, 'root', 'imageset', ownerAt, 'add the installed root folder, e.g. root: roots/kde');
  if (!v) return undefined;
  const written = reader.text(v, 'root', hint);
  if (written === undefined) return undefined;
  const resolved = resolveRoot(reader, written, v.at);
  return resolved === undefined ? undefined : { resolved, written };
}

/** Resolves a root once (the path itself may be a symlink) and checks it is a readable directory. */
function resolveRoot(reader: Reader, written: string, at: SourcePosition): string | undefined {
  const absolute = path.resolve(reader.dir, written);
  let resolved: string;
  try {
    resolved = fs.realpathSync(absolute);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') {
      reader.problem(at, `root "${written}" does not exist`, `no directory at ${absolute}; root paths are relative to the compose file's folder`);
    } else {
      reader.problem(at, `root "${written}" cannot be resolved: ${describeSystemError(err)}`, `check the path ${absolute} and its permissions`);
    }
    return undefined;
  }
  try {
    if (!fs.statSync(resolved).isDirectory()) {
      reader.problem(at, `root "${written}" is not a directory`, `point root at the folder of an installed system (${resolved} is a file)`);
      return undefined;
    }
    fs.accessSync(resolved, fs.constants.R_OK | fs.constants.X_OK);
  } catch (err) {
    reader.problem(at, `root "${written}" is not readable: ${describeSystemError(err)}`, `run as a user who can read ${resolved} (usually root)`);
    return undefined;
  }
  return resolved;
}

// ---------------------------------------------------------------------------------------------
// Imageset uniqueness (per arch)

function checkImagesets(reader: Reader, drafts: readonly ImagesetDraft[]): void {
  checkImagesetNames(reader, drafts);
  checkImagesetPatterns(reader, drafts);
  checkMetadataStems(reader, drafts);
}

function checkImagesetNames(reader: Reader, drafts: readonly ImagesetDraft[]): void {
  const named = drafts.filter((d) => d.name && d.arch);
  for (const [dup, first] of duplicates(named, (d) => `${d.arch}\n${d.name?.name}`)) {
    reader.problem(
      dup.name?.at,
      `duplicate imageset "${dup.name?.name}" for arch ${dup.arch}`,
      `the first one is at line ${first.name?.at.line}; imageset names must be unique per arch`,
    );
  }
}

function checkImagesetPatterns(reader: Reader, drafts: readonly ImagesetDraft[]): void {
  const withPatterns = drafts.filter((d) => d.patterns && d.arch);
  const joined = (d: ImagesetDraft): string => d.patterns?.list.join(',') ?? '';
  for (const [dup, first] of duplicates(withPatterns, (d) => `${d.arch}\n${joined(d)}`)) {
    reader.problem(
      dup.patterns?.at,
      `patterns "${joined(dup)}" for arch ${dup.arch} are already used by ${describeImageset(first)}`,
      'the installer keys imagesets by their patterns string; two with the same one overwrite each other',
    );
  }
}

/** An imageset named `<other>-meta` would write the same archive as the metadata image of `<other>`. */
function checkMetadataStems(reader: Reader, drafts: readonly ImagesetDraft[]): void {
  for (const draft of drafts) {
    if (!draft.name || !draft.arch || !draft.name.name.endsWith('-meta')) continue;
    const owner = draft.name.name.slice(0, -'-meta'.length);
    if (drafts.some((d) => d.name?.name === owner && d.arch === draft.arch)) {
      reader.problem(
        draft.name.at,
        `imageset "${draft.name.name}" has the same file name as the metadata image of imageset "${owner}"`,
        `both would be written as ${draft.name.name}-${draft.arch}.tar.<ext>; rename one of them`,
      );
    }
  }
}

function describeImageset(draft: ImagesetDraft): string {
  return draft.name ? `imageset "${draft.name.name}" (line ${draft.at.line})` : `the imageset at line ${draft.at.line}`;
}

function completeImageset(draft: ImagesetDraft): ImagesetSpec {
  const { name, title, patterns, root, arch } = draft;
  if (!name || title === undefined || !patterns || !root || !arch) {
    throw new Error(`internal error: incomplete imageset at line ${draft.at.line}`);
  }
  return {
    name: name.name,
    title,
    patterns: patterns.list,
    root: root.resolved,
    rootAsWritten: root.written,
    arch,
    position: draft.at,
  };
}

// ---------------------------------------------------------------------------------------------
// Shared images

/** A shared image as read; a field is undefined when it was missing or invalid (and reported). */
interface ImageDraft {
  at: SourcePosition;
  name?: NameAt;
  label?: string;
  sharedBy?: 'all' | string[];
}

function readImages(reader: Reader, v: Located | undefined, imagesets: readonly ImagesetDraft[]): ImageDraft[] {
  if (!v) return [];
  const items = reader.list(v, 'images', 'list shared images (or write images: [] for none), or leave images: out for automatic layering');
  if (!items) return [];
  const imagesetNames = [...new Set(imagesets.flatMap((d) => (d.name ? [d.name.name] : [])))];
  const drafts: ImageDraft[] = [];
  for (const item of items) {
    const draft = readImage(reader, item, imagesetNames);
    if (draft) drafts.push(draft);
  }
  return drafts;
}

function readImage(reader: Reader, item: Located, imagesetNames: readonly string[]): ImageDraft | undefined {
  const map = reader.map(item, 'image', 'a shared image is a mapping with name:, label: and shared_by:');
  if (!map) return undefined;
  const fields = reader.fields(map, IMAGE_KEYS, 'image', item.at);
  const name = readName(reader, fields, 'image', item.at);
  const labelField = fields.get('label');
  const label = labelField ? reader.text(labelField, 'label', 'shown as "<title> [<label>]", e.g. label: base') : name?.name;
  return { at: item.at, name, label, sharedBy: readSharedBy(reader, fields, item.at, imagesetNames) };
}

function readSharedBy(
  reader: Reader,
  fields: Fields,
  ownerAt: SourcePosition,
  imagesetNames: readonly string[],
): ImageDraft['sharedBy'] {
  const hint = 'write shared_by: all, or a list of imageset names such as shared_by: [kde, gnome]';
  const v = reader.required(fields, 'shared_by', 'image', ownerAt, hint);
  if (!v) return undefined;
  if (isScalar(v.value) && v.value.value === 'all') return 'all';
  if (!isSeq(v.value)) {
    const single = isScalar(v.value) ? v.value.value : undefined;
    const isImagesetName = typeof single === 'string' && imagesetNames.includes(single);
    reader.problem(
      v.at,
      `shared_by must be "all" or a list of imageset names, found ${shown(v.value)}`,
      isImagesetName ? `write a list: shared_by: [${String(single)}]` : hint,
    );
    return undefined;
  }
  const items = reader.list(v, 'shared_by', hint) ?? [];
  if (items.length === 0) {
    reader.problem(v.at, 'shared_by is empty', hint);
    return undefined;
  }
  const names: string[] = [];
  for (const item of items) {
    const name = reader.string(item, 'shared_by item', 'an imageset name of this file');
    if (name !== undefined && checkSharedByName(reader, name, item.at, imagesetNames)) names.push(name);
  }
  return names.length === items.length ? names : undefined;
}

function checkSharedByName(reader: Reader, name: string, at: SourcePosition, imagesetNames: readonly string[]): boolean {
  if (imagesetNames.includes(name)) return true;
  const close = closest(name, imagesetNames);
  const known = `imagesets in this file: ${imagesetNames.join(', ') || 'none'}`;
  reader.problem(at, `unknown imageset "${name}" in shared_by`, close ? `did you mean "${close}"?` : known);
  return false;
}

function checkImages(reader: Reader, images: readonly ImageDraft[], imagesets: readonly ImagesetDraft[]): void {
  checkImageNames(reader, images);
  checkImageStems(reader, images, imagesets);
}

function checkImageNames(reader: Reader, images: readonly ImageDraft[]): void {
  const named = images.filter((d) => d.name);
  for (const [dup, first] of duplicates(named, (d) => d.name?.name ?? '')) {
    reader.problem(
      dup.name?.at,
      `duplicate image "${dup.name?.name}"`,
      `the first one is at line ${first.name?.at.line}; image names must be unique`,
    );
  }
}

/** A shared image must not share a file stem with an imageset's own or metadata image. */
function checkImageStems(reader: Reader, images: readonly ImageDraft[], imagesets: readonly ImagesetDraft[]): void {
  const imagesetNames = new Set(imagesets.flatMap((d) => (d.name ? [d.name.name] : [])));
  for (const image of images) {
    if (!image.name) continue;
    const name = image.name.name;
    const clash = imagesetNames.has(name)
      ? `the own image of imageset "${name}"`
      : name.endsWith('-meta') && imagesetNames.has(name.slice(0, -'-meta'.length))
        ? `the metadata image of imageset "${name.slice(0, -'-meta'.length)}"`
        : undefined;
    if (clash) {
      reader.problem(
        image.name.at,
        `image "${name}" has the same file name as ${clash}`,
        `both would be written as ${name}-<arch>.tar.<ext> and overwrite each other; rename the image`,
      );
    }
  }
}

function completeImage(draft: ImageDraft): SharedImageSpec {
  const { name, label, sharedBy } = draft;
  if (!name || label === undefined || !sharedBy) {
    throw new Error(`internal error: incomplete image at line ${draft.at.line}`);
  }
  return { name: name.name, label, sharedBy, position: draft.at };
}

// ---------------------------------------------------------------------------------------------
// Metadata paths

function readMetadata(reader: Reader, v: Located | undefined): string[] {
  if (!v) return [...DEFAULT_METADATA];
  const hint = 'list paths inside the roots, e.g. metadata: [var/lib/rpm, etc/products.d]';
  const items = reader.list(v, 'metadata', hint) ?? [];
  const paths: string[] = [];
  for (const item of items) {
    const written = reader.string(item, 'metadata path', hint);
    if (written === undefined) continue;
    const normalised = normaliseMetadataPath(written);
    if (normalised === '') {
      reader.problem(item.at, `empty metadata path "${written}"`, 'write a path inside the roots, such as var/lib/rpm');
    } else if (normalised.split('/').includes('..')) {
      reader.problem(item.at, `metadata path "${written}" contains ".."`, 'metadata paths stay inside the root; write them without ".."');
    } else if (!paths.includes(normalised)) {
      paths.push(normalised);
    }
  }
  return paths;
}

/**
 * A metadata path relative to a root: no leading './' or '/', no trailing '/', and no empty or
 * '.' components. '..' components are kept so that the caller can reject them.
 */
export function normaliseMetadataPath(written: string): string {
  return written
    .split('/')
    .filter((part) => part !== '' && part !== '.')
    .join('/');
}

// ---------------------------------------------------------------------------------------------
// Helpers

/** Each later item whose key was already seen, with the first item of that key. */
function duplicates<T>(items: readonly T[], keyOf: (item: T) => string): Array<[T, T]> {
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

/** Levenshtein distance: insertions, deletions and substitutions of one character. */
export function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, substitution));
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}

function unreadableFileHint(err: unknown): string {
  switch ((err as NodeJS.ErrnoException).code) {
    case 'ENOENT': return 'check the path, or write a starter file with `mediacompose init`';
    case 'EISDIR': return 'give the path of the compose file itself, not of its folder';
    case 'EACCES': return 'make the file readable for this user';
    default: return 'check the path and its permissions';
  }
}

function sortProblems(problems: readonly ComposeProblem[]): ComposeProblem[] {
  const order = (p: ComposeProblem): number => (p.position ? p.position.line * 1_000_000 + p.position.column : 0);
  return [...problems].sort((a, b) => order(a) - order(b));
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}

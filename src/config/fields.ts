/**
 * Each field of compose.yaml read and validated on its own: version, medium, compression and
 * level, archs, imagesets (names, patterns, roots: a root must be an existing folder, or none when
 * repositories: prepare it), shared images, metadata paths, layering, budget, checksums. The
 * package source (repositories:, prepare:, packages:) is read in package-source.ts.
 *
 * Over 400 lines on purpose: one short reader per compose.yaml key, so that this file is the
 * list of keys and their checks. The natural cut, if it grows, is imagesets and shared images
 * (readImagesets to checkSharedByName) into a module of their own.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { isScalar, isSeq } from 'yaml';
import { describeSystemError, type SourcePosition } from '../errors.js';
import { INSTALLER_ARCHS, archProblem } from '../model/installer.js';
import { DEFAULT_METADATA, DEFAULT_MIN_SHARED_SIZE, type BudgetSpec, type ChecksumsSpec, type LayeringSpec } from './spec.js';
import { COMPRESSION_NAMES, type CompressionName, DEFAULT_COMPRESSION, FORMATS, isCompressionName } from '../formats/registry.js';
import { type Fields, type Located, Reader, closest, readBoolean, shown } from './reader.js';
import { readPackages } from './package-source.js';

/** Imageset and shared image names: they become file stems on the medium. */
export const NAME_PATTERN = /^[a-z0-9][a-z0-9._-]*$/;
const LAYERING_KEYS = ['auto', 'min_size'];
const CHECKSUMS_KEYS = ['key', 'list'];
const BUDGET_KEYS = ['medium', 'file'];
const IMAGESET_KEYS = ['name', 'title', 'patterns', 'root', 'packages', 'arch'];
const IMAGE_KEYS = ['name', 'label', 'shared_by'];

export interface ArchDefault {
  /** True when the top level has an `arch:` key. */
  present: boolean;
  /** Its value, when valid. */
  arch?: string;
}

// ---------------------------------------------------------------------------------------------
// Checksums

export function readChecksums(reader: Reader, v: Located | undefined): ChecksumsSpec | undefined {
  if (!v) return undefined;
  if (isScalar(v.value) && v.value.value === 'none') return { list: 'images', none: true };
  const map = reader.map(v, 'checksums', 'a mapping such as checksums: {key: 0x1234ABCD, list: images}, or checksums: none');
  if (!map) return undefined;
  const fields = reader.fields(map, CHECKSUMS_KEYS, 'checksums', v.at);
  const key = fields.get('key');
  const list = fields.get('list');
  let keyText: string | undefined;
  if (key) {
    // 0x1234ABCD reads as a YAML number: keep what was written.
    const raw = isScalar(key.value) ? (typeof key.value.value === 'number' ? key.value.source : key.value.value) : undefined;
    if (typeof raw === 'string' && raw.trim() !== '') keyText = raw.trim();
    else reader.problem(key.at, `key must be a gpg key id or fingerprint, found ${shown(key.value)}`, 'e.g. key: 0x1234ABCD, or a 40-digit fingerprint');
  }
  let listName: ChecksumsSpec['list'] = 'images';
  if (list) {
    const value = isScalar(list.value) ? list.value.value : undefined;
    if (value === 'images' || value === 'medium') listName = value;
    else reader.problem(list.at, `unknown checksums list ${shown(list.value)}`, 'use images (images/CHECKSUMS) or medium (the images/ lines of MEDIUM/CHECKSUMS or MEDIUM/content)');
  }
  return { ...(keyText !== undefined ? { key: keyText } : {}), list: listName };
}

/** `check_attributes: true | false` (default true). */
export function readCheckAttributes(reader: Reader, v: Located | undefined): boolean {
  if (!v) return true;
  const value = isScalar(v.value) ? v.value.value : undefined;
  if (typeof value === 'boolean') return value;
  reader.problem(v.at, `check_attributes must be true or false, found ${shown(v.value)}`, 'false skips the extended-attribute and ACL check of the roots; leave it out to check');
  return true;
}

// ---------------------------------------------------------------------------------------------
// Layering

const SIZE_UNITS: Record<string, number> = { '': 1, B: 1, KiB: 1024, MiB: 1024 ** 2, GiB: 1024 ** 3 };

export function readLayering(reader: Reader, v: Located | undefined, imagesDeclared: boolean): LayeringSpec {
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

/** A byte count: an integer, or a number with KiB, MiB or GiB ("512KiB", "1MiB"). */
function readSize(reader: Reader, v: Located, fallback: number): number {
  const raw = isScalar(v.value) ? v.value.value : undefined;
  const match = typeof raw === 'number' && raw >= 0 ? [String(raw), String(raw), ''] : typeof raw === 'string' ? /^\s*(\d+)\s*(B|KiB|MiB|GiB)?\s*$/.exec(raw) : null;
  if (match && Number.isSafeInteger(Number(match[1]))) return Number(match[1]) * SIZE_UNITS[match[2] ?? '']!;
  reader.problem(v.at, `min_size must be a size, found ${shown(v.value)}`, 'write bytes as an integer or with a unit: 512KiB, 1MiB, 1GiB');
  return fallback;
}

// ---------------------------------------------------------------------------------------------
// Budget

/** Decimal and binary units: a DVD is 4.7GB (4,700,000,000 bytes), ISO 9660's file limit 4GiB. */
const BUDGET_UNITS: Record<string, number> = {
  '': 1, B: 1,
  kB: 1e3, KB: 1e3, MB: 1e6, GB: 1e9, TB: 1e12,
  KiB: 1024, MiB: 1024 ** 2, GiB: 1024 ** 3, TiB: 1024 ** 4,
};
const BUDGET_PATTERN = /^\s*(\d+(?:\.\d+)?)\s*(B|kB|KB|MB|GB|TB|KiB|MiB|GiB|TiB)?\s*$/;

export function readBudget(reader: Reader, v: Located | undefined): BudgetSpec {
  if (!v) return {};
  const map = reader.map(v, 'budget', 'a mapping such as budget: {medium: 4.7GB, file: 4GiB}');
  if (!map) return {};
  const fields = reader.fields(map, BUDGET_KEYS, 'budget', v.at);
  const medium = fields.get('medium');
  const file = fields.get('file');
  return {
    ...(medium ? optional('medium', readBudgetSize(reader, medium, 'budget.medium')) : {}),
    ...(file ? optional('file', readBudgetSize(reader, file, 'budget.file')) : {}),
  };
}

function optional<K extends string>(key: K, value: number | undefined): Partial<Record<K, number>> {
  return value === undefined ? {} : ({ [key]: value } as Record<K, number>);
}

/** A positive byte count: an integer, or a number with a decimal or binary unit ("4.7GB", "4GiB"). */
function parseBudgetSize(raw: unknown): number | undefined {
  if (typeof raw === 'number') return Number.isSafeInteger(raw) && raw > 0 ? raw : undefined;
  if (typeof raw !== 'string') return undefined;
  const match = BUDGET_PATTERN.exec(raw);
  if (!match) return undefined;
  const unit = match[2] ?? '';
  // A fraction needs a unit: "1.5" bytes means nothing.
  if ((unit === '' || unit === 'B') && match[1]!.includes('.')) return undefined;
  const bytes = Math.round(Number(match[1]) * BUDGET_UNITS[unit]!);
  return Number.isSafeInteger(bytes) && bytes > 0 ? bytes : undefined;
}

function readBudgetSize(reader: Reader, v: Located, key: string): number | undefined {
  const bytes = parseBudgetSize(isScalar(v.value) ? v.value.value : undefined);
  if (bytes === undefined) {
    reader.problem(v.at, `${key} must be a size above zero, found ${shown(v.value)}`, 'write bytes as an integer or with a unit: 4.7GB, 700MB, 4GiB');
  }
  return bytes;
}

export function readVersion(reader: Reader, v: Located | undefined): void {
  if (!v) return;
  if (isScalar(v.value) && v.value.value === 1) return;
  reader.problem(v.at, `unsupported version ${shown(v.value)}`, 'this mediacompose reads version: 1');
}

export function readMedium(reader: Reader, fields: Fields, topAt: SourcePosition): string {
  const hint = 'the output folder, relative to the compose file, e.g. medium: out/medium';
  const v = reader.required(fields, 'medium', 'the top level', topAt, 'add the output folder, e.g. medium: out/medium');
  const medium = v && reader.text(v, 'medium', hint);
  return medium === undefined ? '' : path.resolve(reader.dir, medium);
}

export function readCompression(reader: Reader, v: Located | undefined): CompressionName {
  if (!v) return DEFAULT_COMPRESSION;
  const hint = `use one of: ${COMPRESSION_NAMES.join(', ')}`;
  const name = reader.string(v, 'compression', hint);
  if (name === undefined) return DEFAULT_COMPRESSION;
  if (isCompressionName(name)) return name;
  const close = closest(name, COMPRESSION_NAMES);
  reader.problem(v.at, `unknown compression "${name}"`, close ? `did you mean "${close}"? ${hint}` : hint);
  return DEFAULT_COMPRESSION;
}

export function readLevel(reader: Reader, v: Located | undefined, compression: CompressionName): number {
  const { min, max, usual } = FORMATS[compression].levels;
  if (!v) return usual;
  const level = isScalar(v.value) ? v.value.value : undefined;
  if (typeof level === 'number' && Number.isInteger(level) && level >= min && level <= max) return level;
  reader.problem(
    v.at,
    `level must be an integer from ${min} to ${max}, found ${shown(v.value)}`,
    `the usual level for ${compression} is ${usual}; leave level out to use it`,
  );
  return usual;
}

// ---------------------------------------------------------------------------------------------
// Archs

export function readArchDefault(reader: Reader, v: Located | undefined): ArchDefault {
  if (!v) return { present: false };
  const arch = readArch(reader, v);
  return arch === undefined ? { present: true } : { present: true, arch };
}

/** An arch value; undefined (after reporting) unless it is one the installer knows. */
function readArch(reader: Reader, v: Located): string | undefined {
  const valid = `use one of: ${INSTALLER_ARCHS.join(', ')}`;
  const arch = reader.text(v, 'arch', valid);
  if (arch === undefined) return undefined;
  const problem = archProblem(arch);
  if (!problem) return arch;
  reader.problem(v.at, problem.what, problem.hint);
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
export interface ImagesetDraft {
  at: SourcePosition;
  name?: NameAt;
  title?: string;
  patterns?: { list: string[]; at: SourcePosition };
  /** `prepared` when the imageset names no root and repositories are given. */
  root?: { resolved: string; written: string } | 'prepared';
  packages: string[];
  arch?: string;
}

export function readImagesets(reader: Reader, fields: Fields, topAt: SourcePosition, archDefault: ArchDefault, repositories: boolean): ImagesetDraft[] {
  const hint = 'list one imageset per installed root: - {name: kde, patterns: [base, kde], root: roots/kde}';
  const v = reader.required(fields, 'imagesets', 'the top level', topAt, `add imagesets: and ${hint}`);
  if (!v) return [];
  const items = reader.list(v, 'imagesets', hint);
  if (!items) return [];
  if (items.length === 0) reader.problem(v.at, 'imagesets is empty', hint);
  const drafts: ImagesetDraft[] = [];
  for (const item of items) {
    const draft = readImageset(reader, item, archDefault, repositories);
    if (draft) drafts.push(draft);
  }
  return drafts;
}

function readImageset(reader: Reader, item: Located, archDefault: ArchDefault, repositories: boolean): ImagesetDraft | undefined {
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
    root: !fields.has('root') && repositories ? 'prepared' : readRoot(reader, fields, item.at),
    packages: readPackages(reader, fields),
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
  const v = reader.required(fields, 'root', 'imageset', ownerAt, 'add the installed root folder, e.g. root: roots/kde, or give repositories: to prepare it');
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
// Shared images

/** A shared image as read; a field is undefined when it was missing or invalid (and reported). */
export interface ImageDraft {
  at: SourcePosition;
  name?: NameAt;
  label?: string;
  sharedBy?: 'all' | string[];
}

export function readImages(reader: Reader, v: Located | undefined, imagesets: readonly ImagesetDraft[]): ImageDraft[] {
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


// ---------------------------------------------------------------------------------------------
// Metadata paths

export function readMetadata(reader: Reader, v: Located | undefined): string[] {
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
function normaliseMetadataPath(written: string): string {
  return written
    .split('/')
    .filter((part) => part !== '' && part !== '.')
    .join('/');
}

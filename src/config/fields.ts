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
import * as path from 'node:path';
import { isScalar } from 'yaml';
import type { SourcePosition } from '../errors.js';
import { DEFAULT_METADATA, DEFAULT_MIN_SHARED_SIZE, type BudgetSpec, type ChecksumsSpec, type LayeringSpec } from './spec.js';
import { COMPRESSION_NAMES, type CompressionName, DEFAULT_COMPRESSION, FORMATS, isCompressionName } from '../formats/registry.js';
import { type Fields, type Located, Reader, closest, readBoolean, shown } from './reader.js';

const LAYERING_KEYS = ['auto', 'min_size'];
const CHECKSUMS_KEYS = ['key', 'list'];
const BUDGET_KEYS = ['medium', 'file'];

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

/**
 * The imagesets of compose.yaml and its shared images, each field read and validated on its own:
 * archs (the top-level default and each imageset's), names, patterns, roots (an existing folder,
 * or none when repositories: prepare it), shared images and the imagesets that share them.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { isScalar, isSeq } from 'yaml';
import { describeSystemError, type SourcePosition } from '../errors.js';
import { INSTALLER_ARCHS, archProblem } from '../model/installer.js';
import { type Fields, type Located, Reader, closest, shown } from './reader.js';
import { readPackages } from './package-source.js';

/** Imageset and shared image names: they become file stems on the medium. */
export const NAME_PATTERN = /^[a-z0-9][a-z0-9._-]*$/;
const IMAGESET_KEYS = ['name', 'title', 'patterns', 'root', 'packages', 'arch'];
const IMAGE_KEYS = ['name', 'label', 'shared_by'];

export interface ArchDefault {
  /** True when the top level has an `arch:` key. */
  present: boolean;
  /** Its value, when valid. */
  arch?: string;
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



/**
 * Checksum lists on a medium: digests of every file of images/, the signed images/CHECKSUMS or
 * the images/ lines of the product's root list, directory.yast, and the checks verify makes.
 * Used by build (staged with the rest), details (after a repack), verify and `checksums`.
 */
import { createHash } from 'node:crypto';
import { openForReading, readInputText } from '../runtime/input-file.js';
import fs from 'node:fs';
import path from 'node:path';
import { InputError, MediaComposeError, OutputError, UsageError, describeSystemError } from '../errors.js';
import { byBytes } from '../model/installer.js';
import { onCleanup } from '../runtime/cleanup.js';
import { writeOutput } from '../runtime/write-file.js';
import type { Progress } from '../runtime/progress.js';
import type { ChecksumsSpec } from '../config/spec.js';
import { type Signer, checkSignature, openSigner } from './gpg.js';
import {
  DIRECTORY_YAST,
  type FileDigest,
  IMAGES_LIST,
  KEY_SUFFIX,
  type ListForm,
  SIGNATURE_SUFFIX,
  directoryYastText,
  imagesListText,
  isListFile,
  listLines,
  readList,
  replaceImagesLines,
} from './lists.js';

const CHUNK = 1 << 20;

/** Streams a file (or takes the bytes about to replace it) into a digest. */
function digestOf(file: string, algorithm: 'sha256' | 'sha1', content?: string | Buffer): string {
  const hash = createHash(algorithm);
  if (content !== undefined) return hash.update(content).digest('hex');
  const chunk = Buffer.allocUnsafe(CHUNK);
  const fd = openForReading(file, file);
  try {
    for (;;) {
      const n = fs.readSync(fd, chunk, 0, CHUNK, null);
      if (n === 0) break;
      hash.update(chunk.subarray(0, n));
    }
  } finally {
    fs.closeSync(fd);
  }
  return hash.digest('hex');
}

/** The files of an images folder that a list covers (every file but lists, keys, directory.yast). */
function coveredNames(folder: string, overrides: ReadonlyMap<string, string | Buffer> = new Map()): string[] {
  const names = new Set<string>(overrides.keys());
  for (const e of fs.readdirSync(folder, { withFileTypes: true })) {
    if (e.isFile() && !isListFile(e.name) && !e.name.startsWith('.')) names.add(e.name);
  }
  return [...names].filter((n) => !isListFile(n)).sort(byBytes);
}

/** sha256 of every covered file; `overrides` gives the bytes a file is about to get. */
function digestImages(folder: string, overrides: ReadonlyMap<string, string | Buffer> = new Map()): FileDigest[] {
  return coveredNames(folder, overrides).map((name) => ({ path: name, sha256: digestOf(path.join(folder, name), 'sha256', overrides.get(name)) }));
}

/** The root list of a medium that `list: medium` rewrites: MEDIUM/CHECKSUMS, else MEDIUM/content. */
function rootList(medium: string): { file: string; form: ListForm } | undefined {
  for (const [name, form] of [['CHECKSUMS', 'checksums'], ['content', 'content']] as const) {
    const file = path.join(medium, name);
    if (fs.existsSync(file)) return { file, form };
  }
  return undefined;
}

/** A list or directory.yast of the medium (symlinks may lead only inside it). */
function readText(file: string, kind: 'checksumList' | 'directoryList', medium: string): string {
  try {
    return readInputText(file, kind, { inside: medium });
  } catch (err) {
    if (err instanceof MediaComposeError) throw err;
    throw new InputError(file, `cannot read: ${describeSystemError(err)}`);
  }
}

function rename(from: string, to: string): void {
  try {
    fs.renameSync(from, to);
  } catch (err) {
    throw new OutputError(to, `cannot move into place: ${describeSystemError(err)}`);
  }
}

// ---------------------------------------------------------------------------------------------
// build

export interface ChecksumsStep {
  readonly signer?: Signer;
  readonly list: ChecksumsSpec['list'];
  /** Whether the build warns that no signed list was written (NO_KEY_WARNING). */
  readonly warnUnsigned?: boolean;
}

export const NO_KEY_WARNING =
  'no checksums key: no signed list written; the installer asks about every file of images/ (default No, which stops an ' +
  'unattended installation) unless the product\'s signed list covers them (set checksums: key:, or see `mediacompose checksums`; checksums: none says it is on purpose)';

/** Before anything is compressed: the key checked (exit 2 unknown, 4 no gpg). */
export async function prepareChecksums(composeFile: string, medium: string, spec: ChecksumsSpec | undefined, signKey: string | undefined, progress: Progress): Promise<ChecksumsStep> {
  const key = signKey ?? spec?.key;
  const list = spec?.list ?? 'images';
  if (key === undefined) return { list, warnUnsigned: spec?.none !== true }; // the build warns once it is done
  const signer = await openSigner(key, composeFile);
  const root = rootList(medium);
  if (list === 'medium' && !root) {
    throw new UsageError(composeFile, `checksums: list: medium, but ${medium} has no CHECKSUMS or content to add the images/ lines to`, 'use list: images, or put the product\'s root list there first');
  }
  if (list === 'images' && root && /(^|\s)images\//m.test(readText(root.file, 'checksumList', medium))) {
    progress.warn(`${root.file} names files of images/ and the installer reads it after images/CHECKSUMS, so its lines win; use checksums: list: medium`, 'MC-W-CHECKSUMS');
  }
  return { signer, list };
}

/**
 * Writes the staged images folder's lists and directory.yast; returns the moves that must follow
 * the swap of images/ (the root list and MEDIUM/directory.yast, staged in `stagingDir` until
 * then), for Staging.commit to make part of the swap.
 */
export async function writeChecksums(step: ChecksumsStep, stagedImages: string, medium: string, stagingDir: string): Promise<Array<[string, string]>> {
  const moves: Array<[string, string]> = [];
  if (step.signer && step.list === 'images') {
    const list = path.join(stagedImages, IMAGES_LIST);
    writeOutput(list, imagesListText(digestImages(stagedImages)));
    await step.signer.sign(list, list + SIGNATURE_SUFFIX, path.join(medium, 'images', IMAGES_LIST));
    writeOutput(list + KEY_SUFFIX, await step.signer.publicKey());
  } else if (step.signer && step.list === 'medium') {
    const root = rootList(medium)!;
    const staged = path.join(stagingDir, path.basename(root.file));
    const lines = listLines(root.form, digestImages(stagedImages), 'images/');
    writeOutput(staged, replaceImagesLines(root.form, readText(root.file, 'checksumList', medium), lines));
    await step.signer.sign(staged, staged + SIGNATURE_SUFFIX, root.file);
    moves.push([staged, root.file], [staged + SIGNATURE_SUFFIX, root.file + SIGNATURE_SUFFIX]);
    if (fs.existsSync(root.file + KEY_SUFFIX)) {
      writeOutput(staged + KEY_SUFFIX, await step.signer.publicKey());
      moves.push([staged + KEY_SUFFIX, root.file + KEY_SUFFIX]);
    }
  }
  writeOutput(path.join(stagedImages, DIRECTORY_YAST), directoryYastText(folderEntries(stagedImages)));
  const rootDirectory = stagedRootDirectoryYast(medium, stagingDir);
  if (rootDirectory) moves.push(rootDirectory);
  return moves;
}

function folderEntries(folder: string, extra: readonly string[] = []): Array<{ name: string; folder: boolean }> {
  return [
    ...fs.readdirSync(folder, { withFileTypes: true }).map((e) => ({ name: e.name, folder: e.isDirectory() })),
    ...extra.map((name) => ({ name, folder: false })),
  ];
}

/** MEDIUM/directory.yast with images/ added, staged; undefined when there is none or it names images/. */
function stagedRootDirectoryYast(medium: string, stagingDir: string): [string, string] | undefined {
  const file = path.join(medium, DIRECTORY_YAST);
  if (!fs.existsSync(file)) return undefined;
  const text = readText(file, 'directoryList', medium);
  const lines = text.split('\n').filter(Boolean);
  if (lines.includes('images/') || lines.includes('images')) return undefined;
  const staged = path.join(stagingDir, 'root-directory.yast');
  writeOutput(staged, [...lines, 'images/'].sort(byBytes).map((l) => `${l}\n`).join(''));
  return [staged, file];
}

// ---------------------------------------------------------------------------------------------
// details after a repack

/** The lists on a medium that cover images/: images/CHECKSUMS, and a root list with images/ lines. */
function listsCoveringImages(folder: string): Array<{ file: string; form: ListForm; prefix: string }> {
  const out: Array<{ file: string; form: ListForm; prefix: string }> = [];
  if (fs.existsSync(path.join(folder, IMAGES_LIST))) out.push({ file: path.join(folder, IMAGES_LIST), form: 'checksums', prefix: '' });
  const root = rootList(path.dirname(folder));
  if (root && path.basename(folder) === 'images' && /(^|\s)images\//m.test(readText(root.file, 'checksumList', path.dirname(folder)))) out.push({ ...root, prefix: 'images/' });
  return out;
}

export interface ChecksumsRefresh {
  /** Each stale list or directory.yast, with what is wrong with it. */
  readonly stale: ReadonlyArray<{ file: string; what: string }>;
  /** Renames the staged lists into place (after the details files). */
  readonly commit: () => void;
  /** Removes what was staged and not committed. */
  readonly discard: () => void;
}

/**
 * After `details` computed new files (`overrides`): which lists went stale; without `check`, the
 * new lists signed and staged. A stale list without a key is refused (exit 2) before any write.
 */
export async function refreshChecksums(folder: string, overrides: ReadonlyMap<string, string>, options: { check: boolean; signKey?: string }): Promise<ChecksumsRefresh> {
  const digests = digestImages(folder, overrides);
  const differences: Array<{ file: string; what: string }> = [];
  const staged: Array<[string, string]> = [];
  let unregister = (): void => undefined;
  const discard = (): void => {
    for (const [from] of staged) fs.rmSync(from, { force: true });
    unregister();
  };
  const stale: Array<{ file: string; text: string; hasKey: boolean }> = [];
  for (const list of listsCoveringImages(folder)) {
    const old = readText(list.file, 'checksumList', path.dirname(folder));
    const text = list.prefix === '' ? imagesListText(digests) : replaceImagesLines(list.form, old, listLines(list.form, digests, list.prefix));
    if (text === old) continue;
    differences.push({ file: list.file, what: 'its digests are not those of the files of images/ (the installer would refuse them)' });
    stale.push({ file: list.file, text, hasKey: fs.existsSync(list.file + KEY_SUFFIX) });
  }
  const directory = path.join(folder, DIRECTORY_YAST);
  let directoryText: string | undefined;
  if (fs.existsSync(directory)) {
    const text = directoryYastText(folderEntries(folder, [...overrides.keys()]));
    if (text !== readText(directory, 'directoryList', path.dirname(folder))) {
      differences.push({ file: directory, what: 'does not name exactly the files of images/' });
      directoryText = text;
    }
  }
  if (options.check || (stale.length === 0 && directoryText === undefined)) return { stale: differences, commit: () => undefined, discard };
  // Files staged beside the lists: an interrupted run removes them (runtime/cleanup.ts).
  unregister = onCleanup(discard);
  try {
    if (stale.length > 0) {
      if (options.signKey === undefined) {
        throw new UsageError(stale[0]!.file, 'signed checksum list would be stale after this run, and no key was given to sign it again', 'pass --sign-key ID, the key that signed it');
      }
      const signer = await openSigner(options.signKey, stale[0]!.file);
      for (const list of stale) {
        const tmp = `${list.file}.mediacompose-new`;
        staged.push([tmp, list.file]);
        writeOutput(tmp, list.text);
        staged.push([tmp + SIGNATURE_SUFFIX, list.file + SIGNATURE_SUFFIX]);
        await signer.sign(tmp, tmp + SIGNATURE_SUFFIX, list.file);
        if (list.hasKey) {
          staged.push([tmp + KEY_SUFFIX, list.file + KEY_SUFFIX]);
          writeOutput(tmp + KEY_SUFFIX, await signer.publicKey());
        }
      }
    }
    if (directoryText !== undefined) {
      staged.push([`${directory}.mediacompose-new`, directory]);
      writeOutput(`${directory}.mediacompose-new`, directoryText);
    }
  } catch (err) {
    discard();
    throw err;
  }
  return {
    stale: differences,
    commit: () => {
      for (const [from, to] of staged) rename(from, to);
      staged.length = 0;
    },
    discard,
  };
}

// ---------------------------------------------------------------------------------------------
// verify

export interface ChecksumProblem {
  /** Relative to the medium, e.g. images/CHECKSUMS. */
  readonly path: string;
  readonly what: string;
}

/**
 * The medium as libzypp's Fetcher checks each file of images/: the lists it reads (in its order,
 * a later one overwriting an earlier), each list's signature, coverage and digests, and the
 * directory.yast files it lists folders with.
 */
export async function checkChecksums(folder: string, expected: boolean): Promise<ChecksumProblem[]> {
  const medium = path.dirname(folder);
  const problems: ChecksumProblem[] = [];
  const rel = (file: string): string => path.relative(medium, file);
  const candidates: Array<{ file: string; form: ListForm; base: string }> = [];
  const firstOf = (dir: string, names: string[]): string | undefined => names.map((n) => path.join(dir, n)).find((f) => fs.existsSync(f));
  const imagesSums = firstOf(folder, ['CHECKSUMS', 'SHA1SUMS']);
  if (imagesSums) candidates.push({ file: imagesSums, form: 'checksums', base: 'images/' });
  if (fs.existsSync(path.join(folder, 'content'))) candidates.push({ file: path.join(folder, 'content'), form: 'content', base: 'images/' });
  const rootSums = firstOf(medium, ['CHECKSUMS', 'SHA1SUMS']);
  if (rootSums) candidates.push({ file: rootSums, form: 'checksums', base: '' });
  if (fs.existsSync(path.join(medium, 'content'))) candidates.push({ file: path.join(medium, 'content'), form: 'content', base: '' });

  if (candidates.length === 0) {
    if (expected) problems.push({ path: 'images/CHECKSUMS', what: 'no checksum list covers images/: the installer asks about every file (default No)' });
    return problems;
  }
  const merged = new Map<string, { algorithm: string; digest: string; list: string }>();
  for (const list of candidates) {
    const keyFile = fs.existsSync(list.file + KEY_SUFFIX) ? list.file + KEY_SUFFIX : undefined;
    const text = readText(list.file, 'checksumList', medium);
    const bad = await checkSignature(list.file, list.file + SIGNATURE_SUFFIX, keyFile, { inside: medium });
    if (bad) problems.push({ path: rel(list.file), what: `${bad}; an unsigned or unverifiable list makes every fetch ask (default No)` });
    for (const [p, d] of readList(list.form, text)) merged.set(path.posix.normalize(list.base + p), { ...d, list: rel(list.file) });
  }
  for (const name of coveredNames(folder)) {
    const entry = merged.get(`images/${name}`);
    const file = path.join(folder, name);
    if (!entry) {
      problems.push({ path: `images/${name}`, what: 'in no checksum list: the installer asks whether to use it (default No)' });
      continue;
    }
    const algorithm = entry.algorithm === 'SHA256' ? 'sha256' : entry.algorithm === 'SHA1' ? 'sha1' : undefined;
    if (!algorithm) {
      problems.push({ path: `images/${name}`, what: `${entry.list} gives a ${entry.algorithm} digest, which this check does not compute` });
      continue;
    }
    if (digestOf(file, algorithm) !== entry.digest) problems.push({ path: `images/${name}`, what: `wrong digest in ${entry.list} (the installer asks whether to use it, default No)` });
  }
  const directory = path.join(folder, DIRECTORY_YAST);
  if (fs.existsSync(directory)) {
    const listed = new Set(readText(directory, 'directoryList', medium).split('\n').filter(Boolean));
    for (const e of folderEntries(folder)) {
      const name = e.folder ? `${e.name}/` : e.name;
      if (!listed.has(name)) problems.push({ path: rel(directory), what: `does not name ${name}: libzypp reads it instead of the folder` });
    }
  }
  const rootDirectory = path.join(medium, DIRECTORY_YAST);
  if (fs.existsSync(rootDirectory) && !readText(rootDirectory, 'directoryList', medium).split('\n').includes('images/')) {
    problems.push({ path: DIRECTORY_YAST, what: 'does not name images/' });
  }
  return problems;
}

// ---------------------------------------------------------------------------------------------
// `mediacompose checksums`

/** The lines a product build adds to its root list, in both forms, paths from the medium's root. */
export function productLines(folder: string): { files: FileDigest[]; checksums: string[]; content: string[] } {
  const files = digestImages(folder);
  return { files, checksums: listLines('checksums', files, 'images/'), content: listLines('content', files, 'images/') };
}

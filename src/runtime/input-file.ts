/**
 * Opening and reading the files mediacompose takes as input, one way for the whole program. Only
 * a regular file is ever opened: a FIFO would block the open for good (and no signal gets into
 * a synchronous open), a device such as /dev/zero never ends, and a socket or a directory is no
 * input. The type is checked before the open, without opening anything else; the open itself is
 * non-blocking (O_NONBLOCK, O_NOCTTY), and the opened descriptor is checked again to be the
 * regular file that was checked, so a file swapped for a FIFO in between is refused, not waited
 * on. A file read whole is read only up to the size its kind can have (INPUT_FILES).
 *
 * Where a file may lead through symlinks is the caller's to say (Links): a medium's files only
 * to a regular file inside the medium, a package database file not at all (its path is resolved
 * inside its root first, pkgdb/root-path.ts), the compose file anywhere.
 */
import fs from 'node:fs';
import path from 'node:path';
import { InputError, describeSystemError } from '../errors.js';
import { signalCheckpoint } from './signal-checkpoint.js';

const KiB = 1024;
const MiB = 1024 * KiB;
const GiB = 1024 * MiB;

const MEDIUM = 'the medium is damaged or hostile';
const DATABASE = 'the root or medium is damaged or hostile';
const OWN = 'mediacompose writes it as a small regular file; the medium is damaged or hostile';
const CACHE = 'mediacompose writes it as a regular file; the cache folder is damaged';
const ROOTS = 'the roots folder is damaged';

/**
 * Every kind of input file read whole: what messages call it, the most of it that is read, and
 * what a refused one says of its source. Each limit is far above the largest real file of its
 * kind (a hundred times and more; three times for package databases, the one kind whose real
 * files reach hundreds of MiB) and refuses what would take gigabytes of memory or minutes:
 * - compose file: a hand-written list of imagesets, a few KiB for the largest media.
 * - images.xml: one image_set per imageset and arch, under 10 KiB on real media (the installer's
 *   and libzypp's test media: 9 KiB). Reading one costs about 50 times its size in memory and
 *   grows faster than its size in time (74 MB took 1.6 GB and 40 s; 1 MiB, 15,000 images, took
 *   2.4 s and 130 MB in all for `details --check`).
 * - details file: per image a few numbers and one line of about 30 bytes per package owning its
 *   files: tens of KiB per image, a few hundred KiB for a DVD's images. 4 MiB took 3.4 s and
 *   175 MB in all for `details --check`.
 * - checksum list (images/CHECKSUMS, the root CHECKSUMS, SHA1SUMS or content) and directory.yast:
 *   one line per file of the medium, about 100 bytes: a full DVD's list is about 1 MiB.
 * - public key and signature, beside a list, and a repository's gpgkey: an armored key is a few
 *   KiB (tens with many signatures; openSUSE's keyring of every build key: 20 KiB), a detached
 *   signature under 1 KiB; all are handed to gpg.
 * - package database: rpm's Packages, Packages.db or rpmdb.sqlite of a full installation is
 *   100-300 MiB (Berkeley DB and ndb are read where needed, sqlite whole into memory); dpkg's
 *   status and file lists a few MiB (read whole as text).
 * - the medium's lock and the staging journal, written by mediacompose itself: under 1 KiB.
 * - the image cache's entry records (under 1 KiB) and its remembered file digests (about 100
 *   bytes a file of the roots, at most twice the files of one build: tens of MiB for millions).
 * - stage 1's files: a root's record of what was installed (about 50 bytes a package, under
 *   1 MiB), a repository's repomd.xml (a few KiB) and a root's repos.d files (under 1 KiB).
 * Archives are streamed, never read whole: they have no limit but their type.
 */
export const INPUT_FILES = {
  compose: { what: 'compose file', max: 1 * MiB, hint: 'name the compose file itself' },
  imagesXml: { what: 'images.xml', max: 1 * MiB, hint: MEDIUM },
  details: { what: 'details file', max: 4 * MiB, hint: MEDIUM },
  checksumList: { what: 'checksum list', max: 16 * MiB, hint: MEDIUM },
  directoryList: { what: 'directory.yast', max: 16 * MiB, hint: MEDIUM },
  publicKey: { what: 'public key', max: 1 * MiB, hint: MEDIUM },
  repositoryKey: { what: 'public key file', max: 1 * MiB, hint: 'name the exported public key (gpg --armor --export FINGERPRINT > key.asc)' },
  signature: { what: 'signature', max: 64 * KiB, hint: MEDIUM },
  archive: { what: 'archive', max: Infinity, hint: MEDIUM },
  rpmDatabase: { what: 'package database file', max: 1 * GiB, hint: DATABASE },
  dpkgText: { what: 'package database file', max: 256 * MiB, hint: DATABASE },
  lock: { what: 'lock file', max: 64 * KiB, hint: OWN },
  journal: { what: 'staging journal', max: 1 * MiB, hint: OWN },
  cacheRecord: { what: 'image cache record', max: 64 * KiB, hint: CACHE },
  digestMemo: { what: 'remembered file digests', max: 256 * MiB, hint: CACHE },
  rootRecord: { what: 'record of a prepared root', max: 16 * MiB, hint: ROOTS },
  repositoryIndex: { what: 'repomd.xml', max: 16 * MiB, hint: ROOTS },
  repositoryFile: { what: 'repository file', max: 1 * MiB, hint: ROOTS },
} as const;
export type InputKind = keyof typeof INPUT_FILES;

/**
 * Where symlinks may lead: anywhere ('follow'), nowhere ('none': the path is resolved already,
 * a symlink there is refused), or to a file inside a folder (a medium's files: the medium).
 */
export type Links = 'follow' | 'none' | { readonly inside: string };

/** Where a file of a medium's images folder may lead: anywhere inside the medium. */
export function imagesFolderLinks(imagesFolder: string): Links {
  return { inside: path.dirname(imagesFolder) };
}

/** An open input file: its descriptor and size; the caller closes it. */
interface OpenInput {
  readonly fd: number;
  readonly size: number;
}

/**
 * Opens an input file of `kind`. An InputError naming the file when it is no regular file, leads
 * outside where `links` allows, or is larger than its kind's limit; a system error (ENOENT,
 * EACCES, ...) is thrown as is, for the caller to word.
 */
export function openInput(file: string, kind: InputKind, links: Links): OpenInput {
  const { what, max, hint } = INPUT_FILES[kind];
  const target = typeof links === 'object' ? realPathInside(file, links.inside, what, hint) : file;
  const opened = openRegular(target, links !== 'follow');
  if (typeof opened === 'string') throw new InputError(file, `${what} is ${opened}, not a regular file`, `only a regular file is read; ${hint}`);
  if (opened.size > max) {
    fs.closeSync(opened.fd);
    throw tooLarge(file, kind, opened.size);
  }
  return opened;
}

/** Checks an input file as openInput does, for a file another program opens (gpg); system errors as InputErrors too. */
export function checkInput(file: string, kind: InputKind, links: Links): void {
  let opened: OpenInput;
  try {
    opened = openInput(file, kind, links);
  } catch (err) {
    if (err instanceof InputError) throw err;
    throw new InputError(file, `cannot open: ${describeSystemError(err)}`);
  }
  fs.closeSync(opened.fd);
}

/** An input file's bytes, read whole (see openInput for what is refused). */
export function readInput(file: string, kind: InputKind, links: Links): Buffer {
  const reading = readWhole(file, kind, links);
  for (let step = reading.next(); ; step = reading.next()) if (step.done) return step.value;
}

/** An input file's text (UTF-8), read whole. */
export function readInputText(file: string, kind: InputKind, links: Links): string {
  return readInput(file, kind, links).toString('utf8');
}

/** readInput for big files: a pending SIGINT or SIGTERM gets in between chunks. */
export async function readInputChunked(file: string, kind: InputKind, links: Links): Promise<Buffer> {
  const reading = readWhole(file, kind, links);
  for (let step = reading.next(); ; step = reading.next()) {
    if (step.done) return step.value;
    await signalCheckpoint();
  }
}

const CHUNK = 1 * MiB;

/** Reads the file to its end, up to its kind's limit (it may grow meanwhile); yields between chunks. */
function* readWhole(file: string, kind: InputKind, links: Links): Generator<void, Buffer> {
  const { fd, size } = openInput(file, kind, links);
  const max = INPUT_FILES[kind].max;
  try {
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      const buffer = Buffer.allocUnsafe(Math.max(1, Math.min(CHUNK, size + 1 - total)));
      const n = fs.readSync(fd, buffer, 0, buffer.length, null);
      if (n === 0) return Buffer.concat(chunks, total);
      chunks.push(buffer.subarray(0, n));
      total += n;
      if (total > max) throw tooLarge(file, kind, total);
      yield;
    }
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * A descriptor to read a file another step found to be a regular file (a root's file, an
 * archive being digested); an InputError naming `where` when it cannot be opened or is no
 * regular file (any more).
 */
export function openForReading(file: fs.PathLike, where: string, hint?: string): number {
  let opened: OpenInput | string;
  try {
    opened = openRegular(file, false);
  } catch (err) {
    throw new InputError(where, `cannot open: ${describeSystemError(err)}`, hint);
  }
  if (typeof opened === 'string') throw new InputError(where, `is ${opened}, not a regular file`, hint);
  return opened.fd;
}

/**
 * Opens a regular file without blocking, or says what else it is ('a FIFO', ...). Its type is
 * looked at before it is opened (`noFollow`: a symlink there is what it is), then on the opened
 * descriptor, which must be the same file.
 */
function openRegular(file: fs.PathLike, noFollow: boolean): OpenInput | string {
  const before = noFollow ? fs.lstatSync(file) : fs.statSync(file);
  if (!before.isFile()) return typeOf(before);
  let fd: number;
  try {
    fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK | fs.constants.O_NOCTTY | (noFollow ? fs.constants.O_NOFOLLOW : 0));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ELOOP' && noFollow) return 'a symlink';
    throw err;
  }
  const after = fs.fstatSync(fd);
  if (!after.isFile() || after.ino !== before.ino || after.dev !== before.dev) {
    fs.closeSync(fd);
    return after.isFile() ? 'a file replaced while being opened' : typeOf(after);
  }
  return { fd, size: after.size };
}

function typeOf(stat: fs.Stats): string {
  if (stat.isFIFO()) return 'a FIFO';
  if (stat.isCharacterDevice()) return 'a character device';
  if (stat.isBlockDevice()) return 'a block device';
  if (stat.isSocket()) return 'a socket';
  if (stat.isDirectory()) return 'a directory';
  if (stat.isSymbolicLink()) return 'a symlink';
  return 'not a regular file';
}

/** The file's real path, which must lie inside `folder` (symlinks resolved); ENOENT thrown as is. */
function realPathInside(file: string, folder: string, what: string, hint: string): string {
  const real = fs.realpathSync(file);
  const top = fs.realpathSync(folder);
  if (real !== top && !real.startsWith(top.endsWith(path.sep) ? top : top + path.sep)) {
    throw new InputError(file, `${what} leads outside ${folder} (to ${real})`, `a symlink on a medium must stay inside it; ${hint}`);
  }
  return real;
}

function tooLarge(file: string, kind: InputKind, size: number): InputError {
  const { what, max, hint } = INPUT_FILES[kind];
  return new InputError(file, `${what} of ${size} bytes is larger than ${inBinaryUnits(max)}, the most read`, `a real one is far smaller; ${hint}`);
}

/** 64 KiB, 8 MiB, 1 GiB: the limits as written in INPUT_FILES. */
function inBinaryUnits(bytes: number): string {
  if (bytes >= GiB && bytes % GiB === 0) return `${bytes / GiB} GiB`;
  if (bytes >= MiB && bytes % MiB === 0) return `${bytes / MiB} MiB`;
  return `${bytes / KiB} KiB`;
}

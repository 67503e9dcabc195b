/**
 * The medium's images folder, replaced as a whole: a build stages every archive and XML file in
 * a private folder under the medium and swaps it in only when all are complete. A failed or
 * interrupted build removes its staging folder and leaves the previous images untouched.
 *
 * A live staging folder is registered with the cleanup registry (runtime/cleanup.ts), so an
 * interrupted command removes it before the process dies of the signal.
 */
import fs from 'node:fs';
import path from 'node:path';
import { InputError, OutputError, describeSystemError } from '../errors.js';
import { onCleanup } from '../runtime/cleanup.js';
import { makeFolders } from '../runtime/folders.js';
import { readInputText } from '../runtime/input-file.js';
import { IMAGES_DIR, IMAGES_XML } from '../model/names.js';
import { FolderLock, lockHolderError } from '../runtime/folder-lock.js';
import { syncPath } from '../runtime/write-file.js';

const STAGING_PREFIX = '.mediacompose-staging-';

export class Staging {
  private constructor(
    readonly medium: string,
    /** Where the new images folder is assembled. */
    readonly images: string,
    private readonly folder: string,
  ) {
    this.unregister = onCleanup(() => this.discard());
  }

  private readonly unregister: () => void;

  /** A staging folder for the medium whose lock (lockMedium) the caller holds. */
  static create(lock: FolderLock): Staging {
    const medium = lock.folder;
    const folder = path.join(medium, `${STAGING_PREFIX}${process.pid}`);
    try {
      makeFolders(medium);
      removeStale(medium);
      fs.rmSync(folder, { recursive: true, force: true });
      makeFolders(path.join(folder, IMAGES_DIR));
    } catch (err) {
      throw new OutputError(folder, `cannot create the staging folder: ${describeSystemError(err)}`, 'check the medium folder, its permissions and free space');
    }
    return new Staging(medium, path.join(folder, IMAGES_DIR), folder);
  }

  /**
   * Moves the staged images folder into place, then `moves` (files staged in this folder that go
   * elsewhere in the medium: the product's root checksum list, its signature, directory.yast),
   * then removes the previous images. All or nothing: the moves are written to a journal before
   * the swap, and a command that takes the lock after a build killed past the swap finishes them
   * (restoreInterruptedSwaps), so images/ and the root list never stay apart. Durable: the staged
   * files and their folder are flushed to disk before the swap (a power loss after it cannot
   * leave empty or short archives), the medium folder after it (the renames themselves). Returns
   * the seconds spent flushing.
   */
  commit(moves: ReadonlyArray<readonly [string, string]> = []): number {
    const target = path.join(this.medium, IMAGES_DIR);
    const previous = path.join(this.folder, 'previous');
    const started = process.hrtime.bigint();
    try {
      syncTree(this.images);
      if (moves.length > 0) writeJournal(this.folder, moves);
    } catch (err) {
      throw new OutputError(this.images, `cannot flush the new images to disk: ${describeSystemError(err)}`, 'check the file system of the medium');
    }
    let synced = Number(process.hrtime.bigint() - started) / 1e9;
    try {
      if (fs.existsSync(target)) fs.renameSync(target, previous);
      fs.renameSync(this.images, target);
    } catch (err) {
      if (!fs.existsSync(target) && fs.existsSync(previous)) fs.renameSync(previous, target);
      throw new OutputError(target, `cannot move the new images into place: ${describeSystemError(err)}`);
    }
    const after = process.hrtime.bigint();
    try {
      applyMoves(moves);
      syncPath(this.medium);
      syncPath(this.folder);
    } catch (err) {
      this.discard();
      if (err instanceof OutputError) throw err;
      throw new OutputError(this.medium, `cannot flush the swapped images folder to disk: ${describeSystemError(err)}`, 'check the file system of the medium');
    }
    synced += Number(process.hrtime.bigint() - after) / 1e9;
    this.discard();
    return synced;
  }

  /** Removes everything staged (idempotent); the journal first, so no half-removed folder is finished later. */
  discard(): void {
    fs.rmSync(path.join(this.folder, JOURNAL), { force: true });
    fs.rmSync(this.folder, { recursive: true, force: true });
    this.unregister();
  }
}

/** The moves that follow the swap, in the staging folder from just before it. */
const JOURNAL = 'moves.json';

function writeJournal(folder: string, moves: ReadonlyArray<readonly [string, string]>): void {
  const file = path.join(folder, JOURNAL);
  fs.writeFileSync(file, `${JSON.stringify(moves)}\n`, { flush: true });
  syncPath(folder);
}

/** Renames each staged file into place; a move whose staged file is gone was done already. */
function applyMoves(moves: ReadonlyArray<readonly [string, string]>): void {
  for (const [from, to] of moves) {
    try {
      fs.renameSync(from, to);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT' && !fs.existsSync(from)) continue;
      throw new OutputError(to, `cannot move into place: ${describeSystemError(err)}`);
    }
  }
}

/**
 * A staging folder whose images were swapped in but whose journal is still there: the build was
 * killed among the moves that follow the swap. Returns the moves to finish, or undefined.
 */
function unfinishedMoves(stale: string): Array<[string, string]> | undefined {
  if (fs.existsSync(path.join(stale, IMAGES_DIR))) return undefined; // never swapped: nothing to finish
  let text: string;
  try {
    text = readInputText(path.join(stale, JOURNAL), 'journal', 'none');
  } catch {
    return undefined;
  }
  const moves = JSON.parse(text) as Array<[string, string]>;
  // Only files staged in this folder, each to a place in the medium: a journal names nothing else.
  const medium = path.dirname(stale);
  const inside = (file: string, folder: string): boolean => path.dirname(path.resolve(file)) === path.resolve(folder);
  return moves.filter(([from, to]) => inside(from, stale) && inside(to, medium));
}

/** fsync of every file and folder below `dir`, folders after their contents. */
function syncTree(dir: string): void {
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const file = path.join(dir, entry.name);
    if (entry.isDirectory()) syncTree(file);
    else if (entry.isFile()) syncPath(file);
  }
  syncPath(dir);
}

/**
 * Removes the staging folders that earlier builds left (killed with SIGKILL, or a crashed host).
 * The caller holds the medium's lock, so no other build is writing any of them.
 */
function removeStale(medium: string): void {
  restoreInterruptedSwaps(medium, () => undefined);
  for (const name of fs.readdirSync(medium)) {
    if (name.startsWith(STAGING_PREFIX)) fs.rmSync(path.join(medium, name), { recursive: true, force: true });
  }
}

/**
 * Takes the medium's lock for writing, and repairs what a build killed in its commit left
 * (restoreInterruptedSwaps): whatever the command goes on to do, or fails at, the previous
 * images are in place. Every command that writes a medium opens it through here.
 */
export function lockMedium(medium: string, note: (message: string) => void = () => {}): FolderLock {
  const lock = FolderLock.acquire(medium, 'medium', note);
  try {
    restoreInterruptedSwaps(medium, note);
  } catch (err) {
    lock.release();
    throw new OutputError(path.join(medium, IMAGES_DIR), `cannot restore the images an interrupted build moved away: ${describeSystemError(err)}`, 'check the medium folder and its permissions');
  }
  return lock;
}

/**
 * Repairs what a build killed in its commit left: the previous images folder put back when it was
 * killed between the two renames of the swap; the moves after the swap finished when it was killed
 * among them (its images are in place, so the root list must follow them).
 */
function restoreInterruptedSwaps(medium: string, note: (message: string) => void): void {
  const previous = interruptedSwap(medium);
  if (previous !== undefined) {
    fs.renameSync(previous, path.join(medium, IMAGES_DIR));
    note(`restored ${path.join(medium, IMAGES_DIR)}: a build was interrupted while swapping it (it was in ${previous})`);
    return;
  }
  let names: string[];
  try {
    names = fs.readdirSync(medium);
  } catch {
    return;
  }
  for (const name of names.filter((n) => n.startsWith(STAGING_PREFIX)).sort()) {
    const stale = path.join(medium, name);
    const moves = unfinishedMoves(stale);
    if (moves === undefined) continue;
    applyMoves(moves);
    fs.rmSync(path.join(stale, JOURNAL), { force: true });
    syncPath(medium);
    note(`finished the swap of a build interrupted after it: ${moves.map(([, to]) => path.basename(to)).join(', ')} moved into place beside the new images`);
  }
}

/**
 * Where the previous images folder is when a build was killed between the two renames that swap
 * the new one in (MEDIUM/images missing, the old one in a staging folder); undefined otherwise.
 * Read-only commands report this state; every command that takes the lock repairs it.
 */
export function interruptedSwap(medium: string): string | undefined {
  if (fs.existsSync(path.join(medium, IMAGES_DIR))) return undefined;
  let names: string[];
  try {
    names = fs.readdirSync(medium);
  } catch {
    return undefined;
  }
  for (const name of names.filter((n) => n.startsWith(STAGING_PREFIX)).sort()) {
    const previous = path.join(medium, name, 'previous');
    if (fs.existsSync(path.join(previous, IMAGES_XML))) return previous;
  }
  return undefined;
}

/** The error read-only commands report for an interrupted swap (undefined when there is none). */
export function interruptedSwapError(medium: string): InputError | undefined {
  const previous = interruptedSwap(medium);
  if (previous === undefined) return undefined;
  return new InputError(
    medium,
    `no ${IMAGES_DIR}/: a build was interrupted while swapping it in, the previous images are in ${previous}`,
    `run \`mediacompose build COMPOSE\` or \`mediacompose details ${medium}\` to put them back`,
  );
}

/** The identity of MEDIUM/images (device and inode), to tell whether a build swapped it meanwhile. */
export function imagesGeneration(medium: string): string | undefined {
  try {
    const st = fs.statSync(path.join(medium, IMAGES_DIR), { bigint: true });
    return `${st.dev}:${st.ino}`;
  } catch {
    return undefined;
  }
}

/**
 * For read-only commands: the error to report when a live build holds the medium's lock (it may
 * swap images/ while they read), undefined when none does.
 */
export function buildWritingMedium(medium: string): InputError | undefined {
  return lockHolderError(medium, 'medium');
}

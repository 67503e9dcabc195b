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
import { IMAGES_DIR, IMAGES_XML } from '../model/names.js';
import type { MediumLock } from './lock.js';

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

  /** A staging folder for the medium whose lock the caller holds. */
  static create(lock: MediumLock): Staging {
    const medium = lock.medium;
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
   * Moves the staged images folder into place, runs `afterSwap` (files staged beside it that go
   * elsewhere in the medium), then removes the previous one. Durable: the staged files and their
   * folder are flushed to disk before the swap (a power loss after it cannot leave empty or short
   * archives), the medium folder after it (the renames themselves). Returns the seconds spent
   * flushing.
   */
  commit(afterSwap?: () => void): number {
    const target = path.join(this.medium, IMAGES_DIR);
    const previous = path.join(this.folder, 'previous');
    const started = process.hrtime.bigint();
    try {
      syncTree(this.images);
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
      afterSwap?.();
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

  /** Removes everything staged (idempotent). */
  discard(): void {
    fs.rmSync(this.folder, { recursive: true, force: true });
    this.unregister();
  }
}

/** fsync of a file or folder. */
export function syncPath(file: string): void {
  const fd = fs.openSync(file, 'r');
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
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
  for (const name of fs.readdirSync(medium)) {
    if (!name.startsWith(STAGING_PREFIX)) continue;
    restoreInterruptedSwap(medium, path.join(medium, name));
    fs.rmSync(path.join(medium, name), { recursive: true, force: true });
  }
}

/** A build killed between the two renames of commit() left the previous images in its staging. */
function restoreInterruptedSwap(medium: string, stale: string): void {
  const target = path.join(medium, IMAGES_DIR);
  const previous = path.join(stale, 'previous');
  if (!fs.existsSync(target) && fs.existsSync(previous)) fs.renameSync(previous, target);
}

/**
 * Puts back the images folder of a build killed in the middle of its swap. Called by
 * MediumLock.acquire right after taking the lock, so every command that takes it repairs this.
 */
export function restoreInterruptedSwaps(medium: string, note: (message: string) => void): void {
  const previous = interruptedSwap(medium);
  if (previous === undefined) return;
  fs.renameSync(previous, path.join(medium, IMAGES_DIR));
  note(`restored ${path.join(medium, IMAGES_DIR)}: a build was interrupted while swapping it (it was in ${previous})`);
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

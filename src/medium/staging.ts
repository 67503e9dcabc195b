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
import { OutputError, describeSystemError } from '../errors.js';
import { onCleanup } from '../runtime/cleanup.js';
import { makeFolders } from '../runtime/folders.js';
import { IMAGES_DIR } from '../model/names.js';
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

  /** Moves the staged images folder into place, then removes the previous one. */
  commit(): void {
    const target = path.join(this.medium, IMAGES_DIR);
    const previous = path.join(this.folder, 'previous');
    try {
      if (fs.existsSync(target)) fs.renameSync(target, previous);
      fs.renameSync(this.images, target);
    } catch (err) {
      if (!fs.existsSync(target) && fs.existsSync(previous)) fs.renameSync(previous, target);
      throw new OutputError(target, `cannot move the new images into place: ${describeSystemError(err)}`);
    }
    this.discard();
  }

  /** Removes everything staged (idempotent). */
  discard(): void {
    fs.rmSync(this.folder, { recursive: true, force: true });
    this.unregister();
  }
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

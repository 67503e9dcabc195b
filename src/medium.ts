/**
 * The medium's images folder, replaced as a whole: a build stages every archive and XML file in
 * a private folder under the medium and swaps it in only when all are complete. A failed or
 * interrupted build removes its staging folder and leaves the previous images untouched.
 */
import fs from 'node:fs';
import path from 'node:path';
import { OutputError, describeSystemError } from './errors.js';

export const IMAGES_DIR = 'images';
const STAGING_PREFIX = '.mediacompose-staging-';

export class Staging {
  private constructor(
    readonly medium: string,
    /** Where the new images folder is assembled. */
    readonly images: string,
    private readonly folder: string,
  ) {}

  static create(medium: string): Staging {
    const folder = path.join(medium, `${STAGING_PREFIX}${process.pid}`);
    try {
      fs.mkdirSync(medium, { recursive: true });
      removeStale(medium);
      fs.rmSync(folder, { recursive: true, force: true });
      fs.mkdirSync(path.join(folder, IMAGES_DIR), { recursive: true });
    } catch (err) {
      throw new OutputError(medium, `cannot create the medium folder: ${describeSystemError(err)}`, 'check the path and its permissions');
    }
    const staging = new Staging(medium, path.join(folder, IMAGES_DIR), folder);
    liveStagings.add(staging);
    return staging;
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
    liveStagings.delete(this);
  }
}

const liveStagings = new Set<Staging>();

/** Removes what live stagings left, for signal handlers that end the process. */
export function discardAllStagings(): void {
  for (const s of [...liveStagings]) s.discard();
}

/** Removes staging folders of processes that no longer run. */
function removeStale(medium: string): void {
  for (const name of fs.readdirSync(medium)) {
    if (!name.startsWith(STAGING_PREFIX)) continue;
    const pid = Number(name.slice(STAGING_PREFIX.length));
    if (Number.isInteger(pid) && pid !== process.pid && isRunning(pid)) continue;
    fs.rmSync(path.join(medium, name), { recursive: true, force: true });
  }
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * The one way mediacompose writes a whole small file (XML, a checksum list, a compose file): it
 * is written or the command fails with one line naming it (OutputError, exit 4).
 */
import fs from 'node:fs';
import path from 'node:path';
import { OutputError, describeSystemError } from '../errors.js';

export interface WriteOptions {
  /** Refuse to replace a file that exists ('wx'); `exists` makes the error for that case. */
  readonly exclusive?: boolean | { readonly exists: () => Error };
  /**
   * Write a temporary file beside it, flush it, rename it into place and flush the folder: a
   * reader sees the old file or the new one, never part of one, even after a power loss.
   */
  readonly atomic?: boolean;
}

export function writeOutput(file: string, content: string | Buffer, options: WriteOptions = {}): void {
  if (options.atomic) return writeAtomically(file, content);
  try {
    fs.writeFileSync(file, content, options.exclusive ? { flag: 'wx' } : {});
  } catch (err) {
    const exclusive = options.exclusive;
    if (typeof exclusive === 'object' && (err as NodeJS.ErrnoException).code === 'EEXIST') throw exclusive.exists();
    throw new OutputError(file, `cannot write: ${describeSystemError(err)}`);
  }
}

function writeAtomically(file: string, content: string | Buffer): void {
  const temp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.tmp`);
  try {
    fs.writeFileSync(temp, content, { flush: true });
    fs.renameSync(temp, file);
    syncPath(path.dirname(file));
  } catch (err) {
    fs.rmSync(temp, { force: true });
    throw new OutputError(file, `cannot write: ${describeSystemError(err)}`);
  }
}

/** fsync of one file or folder: its data (a file) or its entries (a folder) are on disk. */
export function syncPath(file: string): void {
  const fd = fs.openSync(file, 'r');
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

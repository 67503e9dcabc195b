/**
 * Folder creation and opening files to read, one way each for the whole program.
 */
import fs from 'node:fs';
import path from 'node:path';
import { InputError, describeSystemError } from '../errors.js';

/**
 * `mkdir -p`, returning the outermost folder it created. One level at a time: a recursive
 * mkdirSync reports "no such file or directory" where the cause is a read-only file system, and
 * never returns for a folder under /proc (it retries ENOENT forever, and no signal gets in).
 */
export function makeFolders(dir: string): string | undefined {
  const missing: string[] = [];
  for (let d = path.resolve(dir); !fs.existsSync(d) && d !== path.dirname(d); d = path.dirname(d)) missing.unshift(d);
  for (const d of missing) fs.mkdirSync(d);
  return missing[0];
}


/** A file descriptor to read `file`; an InputError naming `where` ("cannot open: ...") when it cannot be opened. */
export function openForReading(file: fs.PathLike, where: string, hint?: string): number {
  try {
    return fs.openSync(file, 'r');
  } catch (err) {
    throw new InputError(where, `cannot open: ${describeSystemError(err)}`, hint);
  }
}
